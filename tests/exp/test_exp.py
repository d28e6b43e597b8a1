"""The Exp system: zoo names, exp files, command-line merging, model configuration."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from yolox.data import COCO_CLASSES
from yolox.exp import Exp, ExpError, get_exp
from yolox.exp.yolox_base import DATASET_FORMATS
from yolox.models import ModelConfig, build_model

ROOT = Path(__file__).resolve().parents[2]

OFFICIAL = {
    "yolox-nano": (0.33, 0.25, True),
    "yolox-tiny": (0.33, 0.375, False),
    "yolox-s": (0.33, 0.50, False),
    "yolox-m": (0.67, 0.75, False),
    "yolox-l": (1.0, 1.0, False),
    "yolox-x": (1.33, 1.25, False),
}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_zoo_names_and_default_files_agree(name):
    by_name = get_exp(None, name)
    by_file = get_exp(str(ROOT / "exps" / "default" / f"{name.replace('-', '_')}.py"), None)
    depth, width, depthwise = OFFICIAL[name]
    for exp in (by_name, by_file):
        assert (exp.depth, exp.width, exp.depthwise) == (depth, width, depthwise)
        assert exp.attention is None
    assert by_name.model_config() == by_file.model_config()


def test_official_defaults():
    exp = Exp()
    assert exp.num_classes == 80 and exp.class_names is None  # official: no names field
    assert exp.model_config().class_names == tuple(COCO_CLASSES)  # demo of a zoo exp: COCO's
    assert exp.input_size == (640, 640) and exp.test_size == (640, 640)
    assert (exp.max_epoch, exp.no_aug_epochs, exp.warmup_epochs) == (300, 15, 5)
    assert exp.basic_lr_per_img == 0.01 / 64.0 and exp.weight_decay == 5e-4 and exp.momentum == 0.9
    assert (exp.test_conf, exp.nmsthre) == (0.01, 0.65)
    nano = get_exp(None, "yolox-nano")
    assert nano.input_size == (416, 416) and nano.mosaic_prob == 0.5 and not nano.enable_mixup


@pytest.mark.parametrize("size", ["s", "nano", "tiny"])
@pytest.mark.parametrize("kind", ["cam", "se", "eca", "cbam"])
def test_attention_exps_place_modules_on_the_backbone_outputs(size, kind):
    exp = get_exp(str(ROOT / "exps" / f"yolox_{size}_{kind}.py"), None)
    assert exp.attention == kind
    model = exp.get_model()
    assert sorted(model.backbone.attention.keys()) == ["dark3", "dark4", "dark5"]
    assert exp.exp_name == f"yolox_{size}_{kind}"


def test_merge_parses_names_dicts_numbers_and_rejects_unknown_fields():
    exp = get_exp(None, "yolox-s")
    exp.merge(["attention", "cbam", "max_epoch", "12", "test_size", "(320, 320)", "ema", "False"])
    assert (
        exp.attention == "cbam"
        and exp.max_epoch == 12
        and exp.test_size == (320, 320)
        and exp.ema is False
    )
    exp.merge(["attention", "{'type': 'cbam', 'ratio': 8, 'positions': ['C3_p3']}"])
    assert exp.attention == {"type": "cbam", "ratio": 8, "positions": ["C3_p3"]}
    exp.merge(["attention", "None"])
    assert exp.attention is None
    with pytest.raises(ValueError, match="unknown field 'not_a_field'"):
        exp.merge(["not_a_field", "1"])
    with pytest.raises(ValueError, match="odd number"):
        exp.merge(["max_epoch"])
    with pytest.raises(ValueError, match="ema"):
        exp.merge(["ema", "maybe"])


def test_errors_inside_an_exp_file_are_shown_not_hidden(tmp_path):
    bad = tmp_path / "bad_exp.py"
    bad.write_text("from yolox.exp import Exp as Base\nraise ZeroDivisionError('typo in my exp')\n")
    with pytest.raises(ZeroDivisionError, match="typo in my exp"):
        get_exp(str(bad), None)
    with pytest.raises(ExpError, match="not found"):
        get_exp(str(tmp_path / "missing.py"), None)
    with pytest.raises(ExpError, match="unknown model name"):
        get_exp(None, "yolox-q")
    no_class = tmp_path / "no_class.py"
    no_class.write_text("x = 1\n")
    with pytest.raises(ExpError, match="no class named 'Exp'"):
        get_exp(str(no_class), None)


def test_model_config_round_trips_and_rebuilds_the_same_architecture():
    exp = get_exp(str(ROOT / "exps" / "yolox_nano_cbam.py"), None)
    exp.num_classes = 3
    exp.class_names = ("a", "b", "c")
    config = exp.model_config()
    restored = ModelConfig.from_dict(config.to_dict())
    assert restored == config
    model = build_model(restored)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == [
        (k, v.shape) for k, v in exp.get_model().state_dict().items()
    ]
    with pytest.raises(ValueError, match="unknown model_config keys"):
        ModelConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_num_classes_without_names_builds_but_explicit_wrong_names_fail():
    exp = get_exp(None, "yolox-nano")
    exp.num_classes = 71  # the official custom exp: no class names at all
    assert exp.get_model().head.num_classes == 71
    assert exp.model_config().class_names is None  # decided when the dataset is built
    exp = get_exp(None, "yolox-nano")
    exp.num_classes = 2
    exp.class_names = ("a", "b", "c")
    with pytest.raises(ValueError, match="len.class_names.=3 but num_classes=2"):
        exp.get_model()
    exp.class_names = None
    exp.num_classes = 80
    exp.input_size = (400, 400)
    with pytest.raises(ValueError, match="input_size must be .* multiples of 32"):
        exp.get_model()


def test_readme_example_prints_cam_on_three_positions():
    code = (
        "from yolox.exp import get_exp; e = get_exp('exps/yolox_s_cam.py', None); m = e.get_model(); print(m);"
        "from yolox.utils.model_utils import get_model_info; print(get_model_info(m, e.test_size))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.count("CoordAttention") == 3
    assert "(dark3): CoordAttention" in out and "(dark5): CoordAttention" in out
    match = re.search(r"Params: ([\d.]+)M, Gflops: ([\d.]+)", out)
    assert match, out[-300:]
    params, gflops = float(match.group(1)), float(match.group(2))
    assert 8.97 < params < 9.05  # yolox-s is 8.97M; CAM adds ~36K
    assert 26.6 < gflops < 26.9  # official yolox-s: 26.8


def test_distributed_train_loader_gives_each_rank_its_own_share(tmp_path, monkeypatch):
    from yolox.exp import yolox_base
    from yolox.exp.synthetic import SyntheticExp

    def first_indices(rank: int) -> list:
        exp = SyntheticExp()
        exp.data_dir = str(tmp_path / "synthetic")
        exp.synthetic_images = (8, 2)
        monkeypatch.setattr(yolox_base.dist, "get_rank", lambda: rank)
        monkeypatch.setattr(yolox_base.dist, "get_world_size", lambda: 2)
        loader = exp.get_data_loader(batch_size=4, is_distributed=True)
        assert loader.batch_sampler.batch_size == 2  # total batch split over the ranks
        stream = iter(loader.batch_sampler.sampler)
        return [next(stream) for _ in range(8)]

    rank0, rank1 = first_indices(0), first_indices(1)
    assert rank0 != rank1
    assert sorted(rank0[:4] + rank1[:4]) == list(range(8))  # one shuffled epoch, split in two


def test_an_exp_file_can_import_a_helper_next_to_it(tmp_path):
    (tmp_path / "my_recipe.py").write_text(
        "from yolox.exp import Exp as Base\n\nclass Recipe(Base):\n    def __init__(self):\n"
        "        super().__init__()\n        self.max_epoch = 7\n"
    )
    (tmp_path / "my_exp.py").write_text(
        "from my_recipe import Recipe\n\nclass Exp(Recipe):\n    pass\n"
    )
    exp = get_exp(str(tmp_path / "my_exp.py"), None)
    assert exp.max_epoch == 7 and exp.exp_name == "my_exp"
    assert str(tmp_path) not in sys.path  # the folder is only on the path while importing


def test_every_model_config_field_round_trips_through_the_exp_and_a_checkpoint(tmp_path):
    from dataclasses import fields

    from yolox.tools.eval import exp_from_checkpoint
    from yolox.utils.checkpoint import save_checkpoint

    changed = ModelConfig(
        name="my-net",
        neck="yolofpn",
        depth=0.5,
        width=0.75,
        depthwise=True,
        act="relu",
        num_classes=2,
        class_names=("a", "b"),
        attention={"type": "se", "reduction": 8},
        in_channels=(64, 128, 256),
        darknet_depth=21,
    )
    defaults = ModelConfig()
    assert all(getattr(changed, f.name) != getattr(defaults, f.name) for f in fields(ModelConfig))
    exp = Exp()
    exp.apply_model_config(changed)
    assert exp.model_config() == changed
    path = save_checkpoint(tmp_path / "c.pth", {"model_config": changed.to_dict()})
    assert exp_from_checkpoint(str(path), "coco").model_config() == changed


def test_training_sizes_are_described_and_a_forgotten_random_size_is_warned():
    from yolox.exp.train_sizes import describe_training_sizes, input_size_override_warning

    exp = get_exp(None, "yolox-nano")  # official: random_size (10, 20) overrides input_size
    assert "320x320 to 640x640 px" in describe_training_sizes(exp)
    assert input_size_override_warning(exp) is None
    exp.merge(["input_size", "(320, 320)"])
    assert "trains at 320-640 px" in input_size_override_warning(exp)
    exp.merge(["random_size", "(10, 10)"])
    assert input_size_override_warning(exp) is None
    assert "320x320 to 320x320 px" in describe_training_sizes(exp)
    plain = Exp()  # no random_size: input_size +- multiscale_range
    assert "480x480 to 800x800 px" in describe_training_sizes(plain)


def test_no_code_reads_exp_fields_with_getattr_defaults():
    """Every exp field is declared in Exp.__init__; ``getattr(exp, name, default)`` hides typos."""
    pattern = re.compile(r"getattr\(\s*(self\.)?exp\s*,[^,()]+,")  # three arguments
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("yolox", "tools", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_values_are_checked_by_type_and_range_in_merge_and_check():
    exp = get_exp(None, "yolox-nano")
    with pytest.raises(ValueError, match=r"max_epoch must be an integer >= 1, got 'abc'"):
        exp.merge(["max_epoch", "abc"])
    assert exp.max_epoch == 300  # a rejected value is not applied
    exp.merge(["max_epoch", "3", "seed", "None"])
    assert exp.max_epoch == 3 and exp.seed is None
    exp.no_aug_epochs = -2  # set in an exp file: caught before training by check()
    with pytest.raises(ValueError, match="no_aug_epochs must be an integer >= 0, got -2"):
        exp.check()


def test_unseeded_runs_do_not_share_one_data_order(tmp_path, monkeypatch):
    """seed None means no seed: two unseeded loaders shuffle differently; a seed repeats."""
    from yolox.data import InfiniteSampler

    seeds = []
    monkeypatch.setattr(
        InfiniteSampler, "__init__", _recording_init(InfiniteSampler.__init__, seeds)
    )
    exp = get_exp(None, "yolox-nano")
    exp.dataset = _TinyDataset()
    exp.data_num_workers = 0
    exp.get_data_loader(batch_size=2, is_distributed=False)
    exp.dataset = _TinyDataset()
    exp.get_data_loader(batch_size=2, is_distributed=False)
    assert seeds[0] != seeds[1]
    exp.seed = 7
    exp.dataset = _TinyDataset()
    exp.get_data_loader(batch_size=2, is_distributed=False)
    assert seeds[-1] == 7


def _recording_init(original, seeds):
    def init(self, size, shuffle=True, seed=0, rank=0, world_size=1):
        seeds.append(seed)
        original(self, size, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size)

    return init


class _TinyDataset:
    input_dim = (64, 64)

    def __len__(self):
        return 4


@pytest.mark.parametrize("fmt", DATASET_FORMATS)
def test_every_dataset_format_and_declared_choice_passes_the_value_rules(fmt):
    """The value rules must accept everything the data layer reads (voc_flat, yolo were refused)."""
    exp = Exp()
    exp.merge(["dataset_format", fmt, "val_fraction", "0.2", "coco_backend", "pycocotools"])
    exp.merge(["max_history_ckpt", "None"])
    assert (exp.dataset_format, exp.val_fraction, exp.max_history_ckpt) == (fmt, 0.2, None)
    with pytest.raises(ValueError, match="max_history_ckpt must be None or an integer >= 1"):
        exp.merge(["max_history_ckpt", "0"])

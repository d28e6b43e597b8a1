"""Official YOLOX v0.3.0's ten exp files, loaded unchanged from ``$YOLOX_SHARED/fixtures``.

Each one loads with ``get_exp``, builds the official state-dict keys of its size, and under
``attention cam`` either builds the attention modules or fails with the one-line fix. The small
ones also train a few iterations and evaluate on generated data (sizes set as exp attributes on
the command line after loading, never by editing the file). yolox-l, yolox-x and yolov3 stop at
build + keys: even two iterations of them take minutes on the 2-core CPU the tests run on. The
VOC exp trains and evaluates through its own overrides in test_official_voc_exp.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from yolox.exp import Exp, ExpError, get_checked_model, get_exp
from yolox.models.attention import CoordAttention

# file in fixtures/official_exps -> (official state-dict keys, builds its own model)
OFFICIAL_EXPS = {
    "default_yolov3.py": ("yolov3", True),
    "default_yolox_l.py": ("yolox_l", False),
    "default_yolox_m.py": ("yolox_m", False),
    "default_yolox_nano.py": ("yolox_nano", True),
    "default_yolox_s.py": ("yolox_s", False),
    "default_yolox_tiny.py": ("yolox_tiny", False),
    "default_yolox_x.py": ("yolox_x", False),
    "example_custom_nano.py": ("yolox_nano", True),
    "example_custom_yolox_s.py": ("yolox_s", False),
    "example_yolox_voc_yolox_voc_s.py": ("yolox_s", False),
}
TRAINED = [
    "default_yolox_nano.py",
    "default_yolox_tiny.py",
    "default_yolox_s.py",
    "default_yolox_m.py",
    "example_custom_nano.py",
    "example_custom_yolox_s.py",
]
NECK = {"default_yolov3.py": "YOLOFPN"}


@pytest.fixture
def official(shared_fixtures) -> Path:
    folder = shared_fixtures / "official_exps"
    assert sorted(p.name for p in folder.glob("*.py")) == sorted(OFFICIAL_EXPS)
    return folder


def _official_keys(shared_fixtures: Path, size: str) -> list:
    data = json.loads((shared_fixtures / "state_dict_keys" / f"{size}.json").read_text())
    return [[name, shape] for name, shape, _ in data["keys"]]


@pytest.mark.parametrize("name", sorted(OFFICIAL_EXPS))
def test_official_exp_builds_the_official_state_dict(name, official, shared_fixtures):
    exp = get_exp(str(official / name), None)
    model = exp.get_model()
    size, _ = OFFICIAL_EXPS[name]
    got = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    expected = _official_keys(shared_fixtures, size)
    if exp.num_classes != 80:  # custom (71) and VOC (20): only the class outputs differ
        assert (name, exp.num_classes) in {
            ("example_custom_nano.py", 71),
            ("example_custom_yolox_s.py", 71),
            ("example_yolox_voc_yolox_voc_s.py", 20),
        }
        for row in expected:
            if row[0].startswith("head.cls_preds."):
                row[1] = [exp.num_classes, *row[1][1:]] if len(row[1]) > 1 else [exp.num_classes]
    assert got == expected
    assert exp.get_model() is model  # built once, cached the official way


@pytest.mark.parametrize("name", sorted(OFFICIAL_EXPS))
def test_official_exp_under_attention_cam_builds_it_or_names_the_fix(name, official):
    path = official / name
    exp = get_exp(str(path), None)
    exp.merge(["attention", "cam"])
    _, own_model = OFFICIAL_EXPS[name]
    if not own_model:
        model = exp.get_model()
        assert sorted(model.backbone.attention) == ["dark3", "dark4", "dark5"]
        assert all(isinstance(m, CoordAttention) for m in model.backbone.attention.values())
        return
    with pytest.raises(ExpError) as info:
        exp.get_model()  # the plain call, not only get_checked_model, is checked
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and "Exp.get_model" in message
    assert f"pass attention=self.attention to {NECK.get(name, 'YOLOPAFPN')}(...)" in message


def test_own_model_exps_build_again_after_the_trainer_drops_its_throwaway(official):
    """The trainer describes a throwaway model first; the official guard must rebuild after."""
    from yolox.core.trainer import _describe_a_throwaway_model

    exp = get_exp(str(official / "default_yolox_nano.py"), None)
    config = _describe_a_throwaway_model(exp)
    assert config["depthwise"] is True
    assert "model" not in exp.__dict__
    assert exp.get_model() is not None


class _OfficialIdioms(Exp):
    """A user exp caching what it builds the way official exps and their copies do."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.width, self.num_classes = 0.33, 0.25, 2
        self.built = []

    def get_model(self):
        if "model" not in self.__dict__:
            from yolox.models import YOLOPAFPN, YOLOX, YOLOXHead

            self.built.append("model")
            self.model = YOLOX(YOLOPAFPN(self.depth, self.width), YOLOXHead(2, self.width))
        return self.model

    def get_optimizer(self, batch_size):
        if "optimizer" not in self.__dict__:
            self.built.append("optimizer")
            self.optimizer = torch.optim.SGD(self.get_model().parameters(), lr=0.01)
        return self.optimizer

    def get_lr_scheduler(self, lr, iters_per_epoch):
        if "lr_scheduler" not in self.__dict__:
            self.built.append("lr_scheduler")
            self.lr_scheduler = super().get_lr_scheduler(lr, iters_per_epoch)
        return self.lr_scheduler

    def get_evaluator(self, batch_size, is_distributed, testdev=False, legacy=False):
        if "evaluator" not in self.__dict__:
            self.built.append("evaluator")
            self.evaluator = object()
        return self.evaluator

    def get_dataset(self, cache=False, cache_type="ram"):
        if self.dataset is None:  # official Exp sets dataset = None in __init__
            self.built.append("dataset")
            self.dataset = list(range(3))
        return self.dataset


def test_official_lazy_idioms_build_every_object_once():
    exp = _OfficialIdioms()
    for name in ("model", "optimizer", "lr_scheduler", "evaluator"):
        assert name not in exp.__dict__, name
        assert name not in exp.fields()
    assert exp.__dict__["dataset"] is None and "dataset" not in exp.fields()
    for _ in range(2):
        model = exp.get_model()
        optimizer = exp.get_optimizer(8)
        scheduler = exp.get_lr_scheduler(0.01, 10)
        evaluator = exp.get_evaluator(8, False)
        dataset = exp.get_dataset()
    assert isinstance(model, torch.nn.Module) and isinstance(optimizer, torch.optim.SGD)
    assert scheduler.update_lr(0) >= 0 and evaluator is not None and dataset == [0, 1, 2]
    assert exp.built == ["model", "optimizer", "lr_scheduler", "evaluator", "dataset"]
    exp.forget("model")
    assert exp.get_model() is not model and exp.built[-1] == "model"


def test_lazy_objects_read_as_none_and_forget_rejects_fields():
    exp = Exp()
    assert (exp.model, exp.optimizer, exp.lr_scheduler, exp.evaluator) == (None,) * 4
    model = exp.get_model()
    assert exp.get_model() is model and exp.get_optimizer(8) is exp.get_optimizer(8)
    with pytest.raises(ValueError, match="not one of the lazily built"):
        exp.forget("depth")


SMALL = [
    "input_size", "(64, 64)", "test_size", "(64, 64)", "random_size", "(2, 2)",
    "max_epoch", "1", "warmup_epochs", "0", "no_aug_epochs", "0", "eval_interval", "1",
    "data_num_workers", "0", "print_interval", "1", "num_classes", "3",
]  # fmt: skip


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    from yolox.data.datasets.synthetic import ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("shapes")
    return ensure_synthetic_dataset(root, fmt="coco", num_train=4, num_val=2, img_size=64, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINED)
def test_official_exp_trains_and_evaluates_unchanged(name, official, shapes, tmp_path):
    from yolox.tools.eval import main as eval_main
    from yolox.tools.train import main as train_main

    path = str(official / name)
    opts = ["output_dir", str(tmp_path), "data_dir", str(shapes), *SMALL]
    assert train_main(["-f", path, "-b", "2", "--device", "cpu", "-expn", "run", *opts]) == 0
    ckpt = tmp_path / "run" / "latest_ckpt.pth"
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert state["iteration"] == 2  # 4 images at batch 2
    log = (tmp_path / "run" / "train_log.txt").read_text()
    assert "AP50" in log  # evaluated during training (eval_interval 1)
    argv = ["-f", path, "-c", str(ckpt), "-b", "2", "--device", "cpu", *opts]
    assert eval_main(argv) == 0


def test_official_nano_under_cam_stops_train_with_the_fix(official, shapes, tmp_path, capsys):
    from yolox.tools.train import main as train_main

    path = str(official / "default_yolox_nano.py")
    opts = ["output_dir", str(tmp_path), "data_dir", str(shapes), *SMALL, "attention", "cam"]
    assert train_main(["-f", path, "-b", "2", "--device", "cpu", *opts]) == 2
    err = capsys.readouterr().err
    assert "pass attention=self.attention to YOLOPAFPN(...)" in err
    assert "AttributeError" not in err


USER_NANO_WITH_ATTENTION = """
import torch.nn as nn

from yolox.exp import Exp as MyExp


class Exp(MyExp):
    def __init__(self):
        super(Exp, self).__init__()
        self.depth = 0.33
        self.width = 0.25

    def get_model(self, sublinear=False):
        if "model" not in self.__dict__:
            from yolox.models import YOLOX, YOLOPAFPN, YOLOXHead
            in_channels = [256, 512, 1024]
            backbone = YOLOPAFPN(self.depth, self.width, in_channels=in_channels,
                                 act=self.act, depthwise=True, attention=self.attention)
            head = YOLOXHead(self.num_classes, self.width, in_channels=in_channels,
                             act=self.act, depthwise=True)
            self.model = YOLOX(backbone, head)
        self.model.head.initialize_biases(1e-2)
        return self.model
"""


def test_a_user_exp_that_applies_the_fix_builds_the_attention(tmp_path):
    path = tmp_path / "nano_attention.py"
    path.write_text(USER_NANO_WITH_ATTENTION)
    exp = get_exp(str(path), None)
    exp.merge(["attention", "cam"])
    model = get_checked_model(exp)
    assert sorted(model.backbone.attention) == ["dark3", "dark4", "dark5"]
    exp = get_exp(str(path), None)
    exp.merge(["attention", "{'type': 'se', 'positions': ['dark4']}"])
    model = exp.get_model()
    del model.backbone.attention["dark4"]  # changed after construction: caught as well
    with pytest.raises(ExpError, match="do not match its plan"):
        get_checked_model(exp)


# Read through ``exp.`` but not Exp fields: an optional hook (train.py checks hasattr), a field
# of the generated-data test exp, and "exp.py" in a help text.
NOT_EXP_FIELDS = {"get_trainer", "synthetic_images", "py"}


def test_every_attribute_read_on_an_exp_is_declared():
    """Fields are set in Exp.__init__; lazily built objects are declared on the class instead."""
    import re

    from yolox.exp.base_exp import LAZY_ATTRIBUTES

    root = Path(__file__).resolve().parents[2] / "yolox"
    read = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        read.update(re.findall(r"(?<![\w.])(?:self\.)?exp\.([A-Za-z_]\w*)", text))
        if path.name in ("yolox_base.py", "base_exp.py"):
            read.update(re.findall(r"self\.([A-Za-z_]\w*)", text))
    exp = Exp()
    undeclared = sorted(
        n for n in read - NOT_EXP_FIELDS if n not in vars(exp) and not hasattr(Exp, n)
    )
    assert not undeclared, undeclared
    annotations = {}
    for cls in reversed(Exp.__mro__):
        annotations.update(getattr(cls, "__annotations__", {}))
    for name in LAZY_ATTRIBUTES:
        assert name in read or name in ("lr_scheduler", "evaluator")
        assert name in annotations and name not in vars(exp)

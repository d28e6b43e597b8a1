"""Official-style exps (own get_model) and attention: never silently the baseline.

The exp files in ``official_style/`` are written the way official YOLOX v0.3.0's exps are: their
``get_model`` builds YOLOPAFPN/YOLOFPN itself. Asking them for attention they do not build must
fail with the file and the fix; with ``attention=self.attention`` passed they train and evaluate,
and their checkpoints describe the network they really built (depthwise nano, lrelu yolov3).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from yolox.exp import ExpError, get_checked_model, get_exp
from yolox.models import build_model
from yolox.models.attention import CoordAttention, SqueezeExcitation
from yolox.models.build import describe_model

HERE = Path(__file__).resolve().parent / "official_style"
NANO = HERE / "yolox_nano.py"
YOLOV3 = HERE / "yolov3.py"


@pytest.fixture
def nano_fixed(tmp_path) -> Path:
    """The official-style nano exp with the one-line fix the error message asks for."""
    text = NANO.read_text()
    neck_call = "depthwise=True\n            )"  # the first such call is YOLOPAFPN's
    fixed = text.replace(neck_call, "depthwise=True, attention=self.attention\n            )", 1)
    assert fixed != text
    path = tmp_path / "yolox_nano_attention.py"
    path.write_text(fixed)
    return path


def _exp(path: Path, *opts: str):
    exp = get_exp(str(path))
    exp.merge(list(opts))
    return exp


def test_official_nano_asked_for_cam_fails_naming_the_file_and_the_fix():
    exp = _exp(NANO, "attention", "cam")
    with pytest.raises(ExpError) as info:
        get_checked_model(exp)
    message = str(info.value)
    assert str(NANO) in message and "Exp.get_model" in message
    assert "attention none" in message and "asks for cam at dark3, dark4, dark5" in message
    assert "pass attention=self.attention to YOLOPAFPN(...)" in message


def test_subclass_setting_attention_is_checked_too(tmp_path):
    shutil.copy(NANO, tmp_path / "official_nano.py")
    child = tmp_path / "nano_se.py"
    child.write_text(
        "from official_nano import Exp as NanoExp\n\n\n"
        "class Exp(NanoExp):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        '        self.attention = {"type": "SE", "positions": ["dark5"]}\n'
    )
    with pytest.raises(ExpError, match=r"official_nano\.py .*asks for se at dark5"):
        get_checked_model(get_exp(str(child)))


def test_official_yolov3_names_its_neck_in_the_fix():
    with pytest.raises(ExpError, match=r"to YOLOFPN\(\.\.\.\) in get_model"):
        get_checked_model(_exp(YOLOV3, "attention", "se"))


def test_fixed_nano_builds_the_attention_it_is_asked_for(nano_fixed):
    model = get_checked_model(_exp(nano_fixed, "attention", "cam"))
    assert sorted(model.backbone.attention) == ["dark3", "dark4", "dark5"]
    assert all(isinstance(m, CoordAttention) for m in model.backbone.attention.values())
    # a model whose modules were changed after construction is caught as well
    exp = _exp(nano_fixed, "attention", {"type": "se", "positions": ["dark4"]})
    model = get_checked_model(exp)
    assert isinstance(model.backbone.attention["dark4"], SqueezeExcitation)
    del model.backbone.attention["dark4"]
    with pytest.raises(ExpError, match="do not match its plan"):
        get_checked_model(exp)


@pytest.mark.parametrize("spelling", [None, "none", "None", {"positions": {"dark3": "NONE"}}])
def test_no_attention_in_any_spelling_passes_the_official_exp(spelling):
    model = get_checked_model(_exp(NANO, "attention", repr(spelling)))
    assert len(model.backbone.attention) == 0


@pytest.mark.parametrize("path,fixture", [(NANO, "yolox_nano.json"), (YOLOV3, "yolov3.json")])
def test_described_config_rebuilds_what_get_model_built(path, fixture, shared_fixtures):
    exp = _exp(path)
    model = get_checked_model(exp)
    official = json.loads((shared_fixtures / "state_dict_keys" / fixture).read_text())["keys"]
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == [
        [k, shape] for k, shape, _ in official
    ]
    config = describe_model(model, exp.model_config())
    assert config != exp.model_config()  # the exp's fields alone describe another network
    rebuilt = build_model(config).state_dict()
    assert {k: v.shape for k, v in rebuilt.items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }


SMALL = [
    "input_size", "(128, 128)", "test_size", "(128, 128)", "random_size", "(4, 4)",
    "max_epoch", "1", "warmup_epochs", "0", "no_aug_epochs", "0", "eval_interval", "1",
    "data_num_workers", "0", "print_interval", "1", "num_classes", "3",
    "class_names", "('circle', 'square', 'triangle')",
]  # fmt: skip


@pytest.fixture
def shapes(tmp_path) -> Path:
    from yolox.data.datasets.synthetic import ensure_synthetic_dataset

    return ensure_synthetic_dataset(
        tmp_path / "shapes", fmt="coco", num_train=8, num_val=4, img_size=128, seed=0
    )


@pytest.mark.slow
def test_official_style_exps_train_and_evaluate_with_attention(
    tmp_path, shapes, nano_fixed, capsys
):
    from yolox.tools.eval import main as eval_main
    from yolox.tools.train import main as train_main

    common = ["-b", "4", "--device", "cpu", "output_dir", str(tmp_path), "data_dir", str(shapes)]
    code = train_main(["-f", str(NANO), "-expn", "bad", *common, *SMALL, "attention", "cam"])
    assert code == 2
    assert "pass attention=self.attention to YOLOPAFPN(...)" in capsys.readouterr().err

    run = [*common, *SMALL, "attention", "cam"]
    assert train_main(["-f", str(nano_fixed), "-expn", "cam", *run]) == 0
    ckpt = tmp_path / "cam" / "latest_ckpt.pth"
    state = torch.load(ckpt, weights_only=True)
    assert any(k.startswith("backbone.attention.dark3.") for k in state["model"])
    assert state["model_config"]["depthwise"] is True  # what get_model built, not the field
    assert state["model_config"]["attention"] == "cam"

    # eval with the exp file (checked against the checkpoint) and without it
    eval_opts = ["data_dir", str(shapes), *SMALL, "attention", "cam"]
    argv = ["-f", str(nano_fixed), "-c", str(ckpt), "-b", "2", "--device", "cpu", *eval_opts]
    assert eval_main(argv) == 0
    wrong = ["-f", str(NANO), "-c", str(ckpt), "-b", "2", "--device", "cpu", *eval_opts]
    assert eval_main(wrong) == 2
    assert "attention=self.attention" in capsys.readouterr().err

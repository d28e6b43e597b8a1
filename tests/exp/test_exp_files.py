"""The exp files users copy: written out, and exactly the zoo experiments they are named after."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from yolox.exp import Exp, get_checked_model, get_exp
from yolox.models.build import MODEL_ZOO

EXPS = Path(__file__).resolve().parents[2] / "exps"
DEFAULT_FILES = {name: EXPS / "default" / f"{name.replace('-', '_')}.py" for name in MODEL_ZOO}
ATTENTION_FILES = sorted(EXPS.glob("yolox_*_*.py"))


def test_every_zoo_model_has_a_written_out_default_file():
    assert sorted(p.name for p in (EXPS / "default").glob("*.py")) == sorted(
        p.name for p in DEFAULT_FILES.values()
    )


@pytest.mark.parametrize("name", sorted(MODEL_ZOO))
def test_default_file_is_the_zoo_experiment_field_for_field(name):
    path = DEFAULT_FILES[name]
    from_file, from_name = get_exp(str(path)), get_exp(None, name)
    assert type(from_file).__bases__ == (Exp,)  # a plain subclass users can read, no type()
    assert "ZOO_EXPS" not in path.read_text()
    assert from_file.fields() == from_name.fields()
    assert from_file.model_config() == from_name.model_config()


@pytest.mark.parametrize(
    "name,fixture",
    [("yolox-nano", "yolox_nano"), ("yolox-tiny", "yolox_tiny"), ("yolov3", "yolov3")],
)
def test_default_file_builds_the_official_state_dict(name, fixture, shared_fixtures):
    official = json.loads((shared_fixtures / "state_dict_keys" / f"{fixture}.json").read_text())
    model = get_checked_model(get_exp(str(DEFAULT_FILES[name])))
    listing = [
        [k, list(v.shape), str(v.dtype).replace("torch.", "")]
        for k, v in model.state_dict().items()
    ]
    assert listing == official["keys"]


def test_there_are_twelve_attention_exps():
    assert len(ATTENTION_FILES) == 12


@pytest.mark.parametrize("path", ATTENTION_FILES, ids=lambda p: p.stem)
def test_attention_exp_is_its_default_file_plus_attention(path):
    model, kind = re.fullmatch(r"yolox_(nano|tiny|s)_(\w+)", path.stem).groups()
    exp = get_exp(str(path))
    base = get_exp(str(EXPS / "default" / f"yolox_{model}.py")).fields()
    fields = exp.fields()
    assert fields.pop("attention") == kind and base.pop("attention") is None
    assert fields.pop("exp_name") == path.stem
    base.pop("exp_name")
    assert fields == base
    assert f"-f exps/{path.name} " in path.read_text()  # its own train command, not a neighbour's

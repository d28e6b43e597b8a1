"""The zoo: one official-style class per model, re-exported by exps/default/, equal to official."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from yolox.exp import Exp, get_checked_model, get_exp
from yolox.models.build import MODEL_ZOO, describe_model

EXPS = Path(__file__).resolve().parents[2] / "exps"
DEFAULT_FILES = {name: EXPS / "default" / f"{name.replace('-', '_')}.py" for name in MODEL_ZOO}
ATTENTION_FILES = sorted(EXPS.glob("yolox_*_*.py"))


def test_every_zoo_model_has_a_written_out_default_file():
    assert sorted(p.name for p in (EXPS / "default").glob("*.py")) == sorted(
        p.name for p in DEFAULT_FILES.values()
    )


@pytest.mark.parametrize("name", sorted(MODEL_ZOO))
def test_name_and_default_file_give_the_one_written_out_class(name):
    module = name.replace("-", "_")
    from_file, from_name = get_exp(str(DEFAULT_FILES[name])), get_exp(None, name)
    assert type(from_file) is type(from_name)  # exps/default re-exports, no second copy
    assert type(from_name).__module__ == f"yolox.exp.default.{module}"  # written out, no type()
    assert type(from_name).__bases__ == (Exp,)
    assert from_name.exp_name == module and from_name.model_name == name


# Official builds these inside its own get_model; ours are fields (compared via describe_model).
BUILT_IN_GET_MODEL = {"depthwise", "neck", "act", "in_channels", "darknet_depth"}


@pytest.mark.parametrize("name", sorted(MODEL_ZOO))
def test_zoo_class_has_the_fields_of_the_official_exp_file(name, shared_fixtures):
    official_file = shared_fixtures / "official_exps" / f"default_{name.replace('-', '_')}.py"
    official, ours = get_exp(str(official_file)), get_exp(None, name)
    theirs, mine = official.fields(), ours.fields()
    assert theirs.pop("model_name") is None and mine.pop("model_name") == name
    assert theirs.pop("exp_name") == official_file.stem and mine.pop("exp_name") == ours.exp_name
    for key in BUILT_IN_GET_MODEL:
        theirs.pop(key), mine.pop(key)
    assert theirs == mine


@pytest.mark.parametrize("name", ["yolox-nano", "yolov3"])
def test_zoo_class_builds_what_the_official_get_model_builds(name, shared_fixtures):
    official_file = shared_fixtures / "official_exps" / f"default_{name.replace('-', '_')}.py"
    official, ours = get_exp(str(official_file)), get_exp(None, name)
    # Official get_model builds only when "model" is not in __dict__ (ARCHITECTURE.md: such slots
    # are not set in __init__); until BaseExp stops setting self.model = None, drop it here.
    vars(official).pop("model", None)
    built = describe_model(official.get_model(), official.model_config())
    assert replace(built, name=name) == ours.model_config()


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
    base_exp = get_exp(str(EXPS / "default" / f"yolox_{model}.py"))
    assert type(exp).__bases__ == (type(base_exp),)  # subclasses the zoo class by import
    base = base_exp.fields()
    fields = exp.fields()
    assert fields.pop("attention") == kind and base.pop("attention") is None
    assert fields.pop("exp_name") == path.stem
    base.pop("exp_name")
    assert fields == base
    assert f"-f exps/{path.name} " in path.read_text()  # its own train command, not a neighbour's

"""Strings stored in a checkpoint never write outside the output folder (issue 18.7)."""

from __future__ import annotations

import pytest

from yolox.testing.fixtures import make_model, save_model_checkpoint, write_image
from yolox.tools.demo import main as demo_main
from yolox.utils.checkpoint import (
    InferenceSettings,
    load_checkpoint,
    safe_path_component,
    save_checkpoint,
)

HOSTILE = ["../escaped", "../../up/two", "/abs/path", "a/b", "..\\win\\x", "C:\\Users\\x", "..", ""]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_stored_run_name_becomes_one_folder_name(name):
    safe = safe_path_component(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert InferenceSettings.from_checkpoint({"inference": {"exp_name": name}}).exp_name == safe


def test_plain_run_names_are_kept():
    for name in ("yolox_nano_bccd", "run-1.5", "my run"):
        assert safe_path_component(name) == name


@pytest.mark.parametrize("name", ["../escaped", "<tmp>/abs_escaped", "sub/../../escaped"])
def test_demo_save_result_stays_under_output_dir(tmp_path, name, capsys):
    name = name.replace("<tmp>", str(tmp_path))  # absolute, and still inside the test's folder
    model, cfg = make_model(None, seed=0)
    ckpt = save_model_checkpoint(tmp_path / "ckpt.pth", model, cfg)
    state = load_checkpoint(ckpt)
    state["inference"] = {"exp_name": name, "test_size": [64, 64]}
    save_checkpoint(ckpt, state)
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    image = write_image(tmp_path / "img.jpg")
    argv = ["image", "-c", str(ckpt), "--path", str(image), "--save_result"]
    assert demo_main([*argv, "--output-dir", str(out), "--device", "cpu"]) == 0
    written = [p for p in (tmp_path).rglob("*.jpg") if p != image]
    assert written, capsys.readouterr().err
    for path in written:
        assert out in path.resolve().parents, path
    assert not (tmp_path / "abs_escaped").exists()

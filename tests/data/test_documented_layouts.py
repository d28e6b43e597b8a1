"""Every complete exp in datasets/README.md runs unchanged on a generated dataset of its layout.

The exp text is taken from the README itself (so the docs cannot drift from what works), the
dataset is generated where the exp looks for it (``datasets/<name>`` below the working
folder), and the real tools run as subprocesses: train a few iterations, check the data with
the exp, then evaluate with the checkpoint alone (no exp file). The ground-truth counts that
evaluation reports must be the checker's counts of the same split.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from yolox.testing.data_files import (
    NAMES,
    write_roboflow_export,
    write_voc_sibling_layout,
    write_yolov8_export,
)

REPO = Path(__file__).resolve().parents[2]
README = REPO / "datasets" / "README.md"
#: exp_name of each documented exp -> (dataset folder below datasets/, the layout's generator)
GENERATORS = {
    "my_voc": ("my_voc", write_voc_sibling_layout),
    "battery": ("battery", write_yolov8_export),
    "cards": ("cards", write_roboflow_export),
}
TINY = [
    "max_epoch", "1", "warmup_epochs", "0", "no_aug_epochs", "0", "eval_interval", "1",
    "data_num_workers", "0", "print_interval", "1", "random_size", "(4, 4)",
    "save_history_ckpt", "False", "output_dir", "outputs",
]  # fmt: skip


def documented_exps() -> dict:
    """exp_name -> the exp's source, for every ```python block of the README with an Exp."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    exps = {}
    for block in blocks:
        if "class Exp(" in block:
            exps[re.search(r'self\.exp_name = "(\w+)"', block).group(1)] = block
    return exps


def _run(*args: str, cwd: Path) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{args[0]} failed ({proc.returncode}):\n{out[-4000:]}"
    return out


def test_every_layout_of_the_readme_has_a_complete_exp():
    assert set(documented_exps()) == set(GENERATORS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_documented_exp_trains_checks_and_evaluates_from_the_checkpoint(tmp_path, name):
    source = documented_exps()[name]
    folder, generate = GENERATORS[name]
    data = generate(tmp_path / "datasets" / folder)
    exp_file = tmp_path / "exps" / f"{name}.py"
    exp_file.parent.mkdir()
    exp_file.write_text(source)

    _run(str(REPO / "tools" / "train.py"), "-f", str(exp_file), "-b", "4", "--device", "cpu",
         *TINY, cwd=tmp_path)  # fmt: skip
    ckpt = tmp_path / "outputs" / name / "best_ckpt.pth"
    config = torch.load(ckpt, weights_only=True)["model_config"]
    assert tuple(config["class_names"]) == NAMES

    checked = _run(str(REPO / "tools" / "check_data.py"), "-f", str(exp_file), cwd=tmp_path)
    assert "0 error(s)" in checked
    val = re.search(r"split val: (\d+) images, \d+ boxes \(cat (\d+), dog (\d+)\)", checked)
    assert val is not None, checked

    evaluated = _run(
        str(REPO / "tools" / "eval.py"), "-c", str(ckpt), "-b", "4",
        "--device", "cpu", "--workers", "0", "--conf", "0.001", cwd=tmp_path,
    )  # fmt: skip
    assert f"({val.group(1)} images)" in evaluated
    # the checkpoint's own data, said as such (its root, or the data.yaml inside it)
    assert re.search(rf"evaluating on (the data of )?{re.escape(str(data))}", evaluated)
    for cls, count in (("cat", val.group(2)), ("dog", val.group(3))):
        assert re.search(rf"\| {cls}\s+\|\s+[\d.]+ \|\s+[\d.]+ \|\s+{count} \|", evaluated), (
            evaluated
        )

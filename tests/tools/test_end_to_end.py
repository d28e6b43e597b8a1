"""The user's path: tools/train.py writes a checkpoint; eval.py and demo.py use it without the exp.

Runs the real scripts as subprocesses (exit codes included) on the generated dataset and on
BCCD, at 128 px for one epoch: the point is the plumbing between the tools, not the AP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from yolox.testing.fixtures import write_synthetic_exp

REPO = Path(__file__).resolve().parents[2]
SMALL_RECIPE = [
    "input_size", "(128, 128)", "test_size", "(128, 128)", "random_size", "(4, 4)",
    "max_epoch", "1", "warmup_epochs", "0", "no_aug_epochs", "0", "eval_interval", "1",
    "data_num_workers", "0", "print_interval", "1",
]  # fmt: skip


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _assert_ok(proc: subprocess.CompletedProcess, what: str) -> str:
    assert proc.returncode == 0, (
        f"{what} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout + proc.stderr


def _train(exp_file: str, tmp_path: Path, extra: list) -> Path:
    out = tmp_path / "outputs"
    proc = _run(
        str(REPO / "tools" / "train.py"), "-f", exp_file, "-b", "8", "--device", "cpu",
        "-expn", "run", "output_dir", str(out), *SMALL_RECIPE, *extra,
        cwd=tmp_path,
    )  # fmt: skip
    _assert_ok(proc, "train.py")
    ckpt = out / "run" / "best_ckpt.pth"
    assert ckpt.is_file(), sorted(p.name for p in (out / "run").iterdir())
    config = torch.load(ckpt, weights_only=True)["model_config"]
    assert config["num_classes"] == 3
    return ckpt


def _demo(ckpt: Path, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo_out"
    proc = _run(
        str(REPO / "tools" / "demo.py"), "image", "-c", str(ckpt), "--path", str(image),
        "--save_result", "--output-dir", str(out), "--device", "cpu", "--tsize", "128",
        cwd=tmp_path,
    )  # fmt: skip
    _assert_ok(proc, "demo.py")
    written = [p for p in out.rglob("*") if p.suffix.lower() in (".jpg", ".png")]
    assert len(written) == 1


@pytest.mark.slow
def test_generated_dataset_train_eval_demo_without_exp(tmp_path):
    data = tmp_path / "synthetic"
    exp_file = write_synthetic_exp(
        tmp_path / "tiny_exp.py",
        f"self.data_dir = {str(data)!r}\nself.synthetic_images = (16, 6)",
    )
    ckpt = _train(str(exp_file), tmp_path, [])
    proc = _run(
        str(REPO / "tools" / "eval.py"), "-c", str(ckpt), "--format", "coco", "--data-dir", str(data),
        "-b", "4", "--device", "cpu", "--tsize", "128", "--conf", "0", "--workers", "0",
        cwd=tmp_path,
    )  # fmt: skip
    text = _assert_ok(proc, "eval.py")
    assert "Average Precision" in text and "circle" in text  # class names came from the checkpoint
    _demo(ckpt, next((data / "val2017").glob("*.jpg")), tmp_path)


@pytest.mark.slow
def test_bccd_train_eval_demo_without_exp(tmp_path, shared_datasets):
    bccd = shared_datasets / "BCCD"
    ckpt = _train(
        str(REPO / "exps" / "example" / "yolox_nano_bccd.py"), tmp_path, ["data_dir", str(bccd)]
    )
    proc = _run(
        str(REPO / "tools" / "eval.py"), "-c", str(ckpt), "--format", "voc", "--data-dir", str(bccd),
        "-b", "8", "--device", "cpu", "--tsize", "128", "--conf", "0", "--workers", "0", "val_sets", "('val',)", "voc_metric", "voc10",
        cwd=tmp_path,
    )  # fmt: skip
    text = _assert_ok(proc, "eval.py")
    assert "VOC2010" in text or "voc10" in text.lower()
    assert "Platelets" in text
    _demo(ckpt, bccd / "JPEGImages" / "BloodImage_00000.jpg", tmp_path)


def test_eval_and_demo_fail_clearly_on_a_missing_checkpoint(tmp_path):
    for tool, extra in (
        ("eval.py", ["--format", "coco", "--data-dir", str(tmp_path)]),
        ("demo.py", []),
    ):
        args = [str(REPO / "tools" / tool)]
        if tool == "demo.py":
            args += ["image", "--path", str(tmp_path)]
        proc = _run(
            *args, "-c", str(tmp_path / "nope.pth"), "--device", "cpu", *extra, cwd=tmp_path
        )
        assert proc.returncode != 0
        assert "nope.pth" in proc.stderr and "Traceback" not in proc.stderr

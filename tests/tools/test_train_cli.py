"""tools/train.py and ``python -m yolox.tools.train``: exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from yolox.tools.train import main

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "core" / "toy_exp.py")


def _run(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_missing_exp_file_script():
    proc = _run("tools/train.py", "-f", "does/not/exist.py")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "train: error: experiment file not found: does/not/exist.py"
    )


def test_bad_checkpoint_module_entry_point():
    proc = _run("-m", "yolox.tools.train", "-f", TOY, "-c", "/no/such/ckpt.pth", "--device", "cpu")
    assert proc.returncode == 2
    assert "error: checkpoint not found: /no/such/ckpt.pth" in proc.stderr


def test_user_errors_in_process(tmp_path, capsys):
    assert main(["-f", TOY, "not_a_field", "1"]) == 2
    assert "unknown field 'not_a_field'" in capsys.readouterr().err
    assert main(["-f", TOY, "--resume", "output_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--resume without -c needs" in err and "latest_ckpt.pth" in err
    assert main(["-f", TOY, "-b", "3", "-d", "2", "--device", "cpu"]) == 2
    assert "not divisible by the 2 processes" in capsys.readouterr().err
    assert main([]) == 2
    assert "give an experiment file" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a checkpoint")
    code = main(
        ["-f", TOY, "-c", str(corrupt), "--device", "cpu", "-b", "2", "output_dir", str(tmp_path)]
    )
    assert code != 0
    assert "cannot read checkpoint" in capsys.readouterr().err


def test_train_then_resume_in_process(tmp_path):
    common = ["-f", TOY, "-b", "4", "--device", "cpu", "-expn", "cli"]
    assert main([*common, "output_dir", str(tmp_path), "max_epoch", "1"]) == 0
    assert main([*common, "--resume", "output_dir", str(tmp_path), "max_epoch", "2"]) == 0
    state = torch.load(tmp_path / "cli" / "latest_ckpt.pth", weights_only=True)
    assert state["start_epoch"] == 2 and state["iteration"] == 6


def test_divergence_exit_code(tmp_path, capsys):
    argv = [
        "-f",
        TOY,
        "-b",
        "4",
        "--device",
        "cpu",
        "output_dir",
        str(tmp_path),
        "nan_at_iter",
        "2",
    ]
    assert main(argv) == 4  # "training diverged"
    assert "training diverged at epoch 1, iteration 2" in capsys.readouterr().err


def test_a_model_override_trains_into_its_own_folder(tmp_path):
    common = ["-f", TOY, "-b", "4", "--device", "cpu"]
    assert main([*common, "output_dir", str(tmp_path), "max_epoch", "1"]) == 0
    baseline = tmp_path / "toy" / "best_ckpt.pth"
    before = baseline.read_bytes()
    # like `attention cam` on a real exp: a model field changed on the command line
    two = ["num_classes", "2", "class_names", "('a', 'b')"]
    assert main([*common, "output_dir", str(tmp_path), "max_epoch", "1", *two]) == 0
    assert baseline.read_bytes() == before
    assert (tmp_path / "toy_num_classes2" / "best_ckpt.pth").is_file()
    # the same override again continues in that folder; -expn of the baseline is refused
    assert main([*common, "--resume", "output_dir", str(tmp_path), "max_epoch", "2", *two]) == 0
    argv = [*common, "-expn", "toy", "output_dir", str(tmp_path), *two]
    assert main(argv) == 2
    assert baseline.read_bytes() == before

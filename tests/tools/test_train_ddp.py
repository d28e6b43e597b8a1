"""Two-process Gloo runs on CPU: DDP training, NaN on one rank, and a frozen peer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from yolox.core.errors import EXIT_DIVERGED

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "core" / "toy_exp.py")

pytestmark = pytest.mark.slow


def _env(**extra: str) -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), **extra)


def _train(*argv: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "tools/train.py",
        "-f",
        TOY,
        "-d",
        "2",
        "-b",
        "4",
        "--device",
        "cpu",
        *argv,
    ]
    return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)


def test_two_process_gloo_training_then_nan_on_one_rank(tmp_path):
    """Epoch 1 trains and checkpoints under DDP; rank 1 alone then sees a NaN loss."""
    start = time.monotonic()
    argv = [
        "-expn",
        "ddp",
        "output_dir",
        str(tmp_path),
        "max_epoch",
        "2",
        "nan_at_iter",
        "5",
        "fault_rank",
        "1",
    ]
    proc = _train(*argv)
    assert proc.returncode == EXIT_DIVERGED, proc.stderr[-3000:]  # as in one process
    assert "training diverged at epoch 2, iteration 2" in proc.stderr
    assert "non-finite loss" in proc.stderr
    assert time.monotonic() - start < 150
    state = torch.load(tmp_path / "ddp" / "latest_ckpt.pth", weights_only=True)
    # 12 images, 2 per process per step: 3 iterations per epoch; epoch 1 is the last good one
    assert state["world_size"] == 2 and state["iteration"] == 3 and state["start_epoch"] == 1
    assert len(state["rng"]) == 2
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])  # seeded per rank
    assert not any(k.startswith("module.") for k in state["model"])  # official key layout
    assert not (tmp_path / "ddp" / "epoch_2_ckpt.pth").exists()
    log = (tmp_path / "ddp" / "train_log.txt").read_text()
    assert "processes: 2" in log and "epoch: 1/2, iter: 2/3" in log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_frozen_peer_is_detected_by_watchdog(tmp_path):
    """Rank 1 freezes (SIGSTOP) mid-run, as torchrun workers on another machine might."""
    port = str(_free_port())
    procs = []
    for rank in (0, 1):
        env = _env(
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            LOCAL_WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=port,
            YOLOX_DIST_HEARTBEAT_TIMEOUT="4",
        )
        cmd = [
            sys.executable,
            "tools/train.py",
            "-f",
            TOY,
            "-b",
            "4",
            "--device",
            "cpu",
            "output_dir",
            str(tmp_path),
            "max_epoch",
            "50",
            "die_at_iter",
            "4",
            "fault_rank",
            "1",
            "fault_mode",
            "freeze",
        ]
        procs.append(
            subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
        )
    try:
        _, err = procs[0].communicate(timeout=90)
        assert procs[0].returncode not in (0, None)
        assert "sent no heartbeat" in err
        assert procs[1].poll() is None  # still frozen: only the watchdog could free rank 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

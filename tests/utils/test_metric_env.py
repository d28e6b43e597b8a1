"""Meters, memory probes and RNG-state round trips through a weights-only checkpoint."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from yolox.utils.metric import AverageMeter, MeterBuffer, format_ap, gpu_mem_usage, mem_usage
from yolox.utils.setup_env import get_rng_state, set_rng_state


def test_meters():
    meter = AverageMeter(window_size=3)
    for v in (1.0, 2.0, 10.0, 4.0):
        meter.update(v)
    assert meter.latest == 4.0
    assert meter.median == 4.0  # window holds 2, 10, 4
    assert meter.avg == (2 + 10 + 4) / 3
    assert meter.global_avg == 17 / 4
    buf = MeterBuffer(window_size=5)
    buf.update(iter_time=0.5, data_time=0.1, loss=torch.tensor(2.0))
    assert set(buf.get_filtered_meter("time")) == {"iter_time", "data_time"}
    assert buf["loss"].latest == 2.0


def test_gpu_mem_zero_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_mem_usage() == 0


def test_gpu_mem_counts_an_allocation():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    block = torch.empty(64 * 1024 * 1024 // 4, dtype=torch.float32, device="cuda")  # 64 MiB
    assert gpu_mem_usage() >= 64
    del block


def test_process_memory_is_measured():
    array = np.ones(32 * 1024 * 1024 // 8)  # 32 MiB touched: the peak covers it
    assert 32 / 1024 <= mem_usage() < 4096
    del array


def test_rng_state_roundtrip(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    path = tmp_path / "rng.pth"
    torch.save({"rng": get_rng_state()}, path)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    set_rng_state(torch.load(path, weights_only=True)["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_ap_is_shown_in_per_cent():
    assert format_ap(0.71494, 0.961) == "AP50:95 71.49, AP50 96.10 (%)"
    assert format_ap(0.05) == "AP50:95 5.00 (%)"

"""The one cost pipeline: counts against hand computation, timing under the timing settings."""

from __future__ import annotations

import torch
from torch import nn

from yolox.utils.costs import denormals_flushed, measure_model_costs


def _conv(out_channels: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, out_channels, 3, padding=1))


def test_counts_and_extra_costs_match_hand_computation():
    prepared = []

    def prepare(model):
        prepared.append(model)
        return model

    models = {"base": _conv(8), "wide": _conv(16)}
    costs = measure_model_costs(
        models, (16, 16), baseline="base", runs=3, warmup=1, prepare=prepare
    )
    # a 3x3 conv: 2 FLOPs per multiply-accumulate, Cin*Cout*9 of them per output pixel
    for label, cout in (("base", 8), ("wide", 16)):
        assert costs[label]["params"] == 3 * cout * 9 + cout
        assert costs[label]["gflops"] == 2 * 3 * cout * 9 * 16 * 16 / 1e9
        assert costs[label]["runs"] == 3 and costs[label]["median_ms"] > 0
    assert costs["wide"]["extra_params"] == 3 * 8 * 9 + 8
    assert costs["wide"]["extra_gflops"] == 2 * 3 * 8 * 9 * 16 * 16 / 1e9
    assert costs["base"]["ratio_median"] == 1.0
    assert prepared == [models["base"], models["wide"]]  # what is timed is the prepared model


def test_without_baseline_or_latency():
    costs = measure_model_costs({"a": _conv(4)}, (8, 8), latency=False)
    assert set(costs["a"]) == {
        "params", "params_m", "gflops", "attention_params_m", "attention_gflops", "height", "width"
    }  # fmt: skip
    costs = measure_model_costs({"a": _conv(4)}, (8, 8), runs=2, warmup=0)
    assert "ratio_median" not in costs["a"] and costs["a"]["runs"] == 2


class _Recorder(nn.Module):
    """Notes the thread count and the denormal flag at every forward."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.seen = []

    def forward(self, x):
        self.seen.append((torch.get_num_threads(), denormals_flushed()))
        return self.conv(x)


def test_timing_runs_under_the_timing_settings_and_restores_them():
    threads, model = torch.get_num_threads(), _Recorder()
    flush_supported = torch.set_flush_denormal(True)
    torch.set_flush_denormal(False)
    measure_model_costs({"m": model}, (8, 8), runs=3, warmup=1, threads=1, prepare=None)
    timed = model.seen[-4:]  # profile_model's forward comes first
    assert timed == [(1, flush_supported)] * 4
    assert torch.get_num_threads() == threads and not denormals_flushed()

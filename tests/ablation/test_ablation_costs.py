"""The ablation report and tools/bench.py measure costs the same way (one pipeline)."""

from __future__ import annotations

import argparse

import pytest
import torch
from torch import nn

from yolox.ablation.costs import measure_costs
from yolox.ablation.plan import Variant
from yolox.exp import get_checked_model, get_exp
from yolox.models.network_blocks import BaseConv
from yolox.tools.bench import bench_model
from yolox.utils.costs import denormals_flushed

COUNTS = ("params", "params_m", "gflops", "attention_params_m", "attention_gflops")


def test_bench_and_ablation_give_identical_counts_for_the_same_model():
    positions = ["dark3", "dark4", "dark5"]
    args = argparse.Namespace(
        positions=positions, tsize=[64], fast=False, no_fuse=False, no_latency=False,
        runs=2, warmup=1, resolved_precision="fp32",
    )  # fmt: skip
    bench = {
        r["attention"]: r for r in bench_model("yolox-nano", ["se"], args, torch.device("cpu"))
    }

    def build(variant: Variant) -> nn.Module:
        exp = get_exp(None, "yolox-nano")
        exp.attention = variant.spec
        return get_checked_model(exp)

    variants = [Variant("none", None), Variant("se", {"type": "se", "positions": positions})]
    ablation = measure_costs(build, variants, (64, 64), runs=2, warmup=1)
    for label in ("none", "se"):
        assert {k: bench[label][k] for k in COUNTS} == {k: ablation[label][k] for k in COUNTS}
        assert bench[label]["runs"] == ablation[label]["latency_runs"] == 2
    assert bench["none"]["latency_ratio"] == ablation["none"]["latency_ratio"] == 1.0
    assert bench["se"]["extra_params"] == ablation["se"]["params"] - ablation["none"]["params"]


def test_ablation_latency_is_timed_like_bench_fused_with_denormals_flushed():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = BaseConv(3, 4, 3, 1)  # a YOLOX conv-BN-act block

        def forward(self, x):
            seen.append((denormals_flushed(), hasattr(self.block, "bn")))
            return self.block(x)

    flush_supported = torch.set_flush_denormal(True)
    torch.set_flush_denormal(False)
    if not flush_supported:
        pytest.skip("this CPU cannot flush denormals")
    measure_costs(lambda v: Probe(), [Variant("none", None)], (8, 8), runs=3, warmup=1)
    assert seen[-4:] == [(True, False)] * 4  # timed: flushed, conv+BN fused (the BN is gone)
    assert not denormals_flushed()

"""Interleaved timing: every round visits every runner once; paired ratios cancel drift."""

import statistics

import pytest
import torch

from yolox.utils.timing import (
    interleaved_samples,
    latency_against_baseline,
    paired_ratio,
    summarize_ms,
)


def test_every_round_runs_each_runner_once_in_varying_order():
    calls = []
    runners = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    samples = interleaved_samples(runners, torch.device("cpu"), runs=12, warmup=2, seed=3)
    assert {k: len(v) for k, v in samples.items()} == {"a": 12, "b": 12, "c": 12}
    timed = calls[2 * 3 :]  # warm-up rounds come first
    rounds = [timed[i : i + 3] for i in range(0, len(timed), 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert len({tuple(r) for r in rounds}) > 1, "order should be shuffled between rounds"


def test_paired_ratio_cancels_drift_that_medians_keep():
    # the machine slows down 3x over the session; the variant is always exactly 10% slower
    baseline = [1.0 + 0.1 * r for r in range(21)]
    variant = [1.1 * b for b in baseline]
    paired = paired_ratio(variant, baseline)
    assert paired["ratio_median"] == pytest.approx(1.1)
    assert paired["ratio_q3"] - paired["ratio_q1"] == pytest.approx(0.0, abs=1e-12)
    # each latency on its own has a wide spread, which a ratio of medians cannot separate
    assert summarize_ms(baseline)["iqr_ms"] > 500


def test_paired_ratio_matches_a_slow_reference_with_noise():
    gen = torch.Generator().manual_seed(0)
    baseline = (1 + torch.rand(40, generator=gen)).tolist()
    variant = (torch.tensor(baseline) * (1.05 + 0.1 * torch.rand(40, generator=gen))).tolist()
    ratios = [v / b for v, b in zip(variant, baseline)]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    got = paired_ratio(variant, baseline)
    assert got["ratio_median"] == pytest.approx(statistics.median(ratios))
    assert (got["ratio_q1"], got["ratio_q3"]) == pytest.approx((q1, q3))


def test_paired_ratio_rejects_unpaired_lists():
    with pytest.raises(ValueError, match="equally long"):
        paired_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="runs must be"):
        interleaved_samples({"a": lambda: None}, torch.device("cpu"), runs=0)


def test_latency_against_baseline_pairs_each_runner_with_the_baseline():
    import time

    runners = {"base": lambda: None, "slow": lambda: time.sleep(0.003)}
    table = latency_against_baseline(runners, torch.device("cpu"), "base", runs=5, warmup=1)
    assert table["base"]["ratio_median"] == 1.0 and table["base"]["runs"] == 5
    assert table["slow"]["ratio_q1"] > 1.0 and table["slow"]["median_ms"] >= 3.0
    with pytest.raises(KeyError, match="baseline 'nope'"):
        latency_against_baseline(runners, torch.device("cpu"), "nope", runs=1)

"""Latency measurement that survives a noisy machine: warm-up, interleaving, medians."""

from __future__ import annotations

import random
import statistics
import time
from typing import Callable, Dict, List, Mapping, Sequence

import torch

from .device import synchronize_device

__all__ = [
    "interleaved_latency",
    "interleaved_samples",
    "latency_against_baseline",
    "paired_ratio",
    "summarize_ms",
]


def summarize_ms(samples: List[float]) -> Dict[str, float]:
    """Median, inter-quartile range and extremes of a list of seconds, in milliseconds."""
    ms = sorted(s * 1e3 for s in samples)
    if len(ms) >= 4:
        q1, _, q3 = statistics.quantiles(ms, n=4)
    else:
        q1, q3 = ms[0], ms[-1]
    return {
        "median_ms": statistics.median(ms),
        "iqr_ms": q3 - q1,
        "min_ms": ms[0],
        "max_ms": ms[-1],
        "runs": len(ms),
    }


def interleaved_samples(
    runners: Mapping[str, Callable[[], object]],
    device: torch.device,
    runs: int = 30,
    warmup: int = 5,
    seed: int = 0,
) -> Dict[str, List[float]]:
    """Seconds per call of each runner; entry ``r`` of every list comes from the same round ``r``.

    Every round visits all runners once, in a fresh random order, so machine drift (thermal
    throttling, other processes) hits the variants evenly, and runs of one round can be paired.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    order = list(runners)
    rng = random.Random(seed)
    for _ in range(warmup):
        for name in order:
            runners[name]()
    samples: Dict[str, List[float]] = {name: [] for name in order}
    for _ in range(runs):
        rng.shuffle(order)
        for name in order:
            synchronize_device(device)
            start = time.perf_counter()
            runners[name]()
            synchronize_device(device)
            samples[name].append(time.perf_counter() - start)
    return samples


def interleaved_latency(
    runners: Mapping[str, Callable[[], object]],
    device: torch.device,
    runs: int = 30,
    warmup: int = 5,
    seed: int = 0,
) -> Dict[str, Dict[str, float]]:
    """:func:`summarize_ms` of each runner's :func:`interleaved_samples`."""
    samples = interleaved_samples(runners, device, runs=runs, warmup=warmup, seed=seed)
    return {name: summarize_ms(values) for name, values in samples.items()}


def paired_ratio(samples: Sequence[float], baseline: Sequence[float]) -> Dict[str, float]:
    """Median and quartiles of the per-round ratios ``samples[r] / baseline[r]``.

    Pairing runs of the same round cancels slow drift that the ratio of two medians still
    carries, so on a noisy machine the spread of the overhead is much narrower than the
    spread of either latency.
    """
    if len(samples) != len(baseline) or not samples:
        raise ValueError(
            f"paired_ratio needs two equally long non-empty lists, got {len(samples)} and {len(baseline)}"
        )
    ratios = sorted(s / b for s, b in zip(samples, baseline))
    if len(ratios) >= 4:
        q1, _, q3 = statistics.quantiles(ratios, n=4)
    else:
        q1, q3 = ratios[0], ratios[-1]
    return {"ratio_median": statistics.median(ratios), "ratio_q1": q1, "ratio_q3": q3}


def latency_against_baseline(
    runners: Mapping[str, Callable[[], object]],
    device: torch.device,
    baseline: str,
    runs: int = 30,
    warmup: int = 5,
    seed: int = 0,
) -> Dict[str, Dict[str, float]]:
    """Interleaved timing of every runner: :func:`summarize_ms` plus its :func:`paired_ratio`
    to ``baseline`` (``ratio_median``, ``ratio_q1``, ``ratio_q3``; exactly 1 for the baseline)."""
    if baseline not in runners:
        raise KeyError(f"baseline {baseline!r} is not one of the runners {list(runners)}")
    samples = interleaved_samples(runners, device, runs=runs, warmup=warmup, seed=seed)
    return {
        name: {**summarize_ms(values), **paired_ratio(values, samples[baseline])}
        for name, values in samples.items()
    }

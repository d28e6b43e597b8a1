"""Latency measurement that survives a noisy machine: warm-up, interleaving, medians."""

from __future__ import annotations

import random
import statistics
import time
from typing import Callable, Dict, List, Mapping

import torch

from .device import synchronize_device

__all__ = ["interleaved_latency", "summarize_ms"]


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


def interleaved_latency(
    runners: Mapping[str, Callable[[], object]],
    device: torch.device,
    runs: int = 30,
    warmup: int = 5,
    seed: int = 0,
) -> Dict[str, Dict[str, float]]:
    """Time each runner ``runs`` times, visiting them in a fresh random order every round.

    Interleaving spreads machine drift (thermal throttling, other processes) evenly over the
    variants, so the ratios between their medians are fair even when absolute times wander.
    """
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
    return {name: summarize_ms(values) for name, values in samples.items()}

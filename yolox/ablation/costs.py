"""Cost of each variant: params and GFLOPs at the test size, and fused batch-1 CPU latency.

Costs do not depend on the trained weights, so they are measured on freshly built models,
through the project's one cost pipeline (:func:`yolox.utils.costs.measure_model_costs`, which
``tools/bench.py`` uses too): all variants timed in one interleaved session, the ratio to the
baseline (the variant without attention) the median of per-round ratios.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Sequence

import torch

from yolox.ablation.plan import Variant
from yolox.utils.costs import measure_model_costs

__all__ = ["measure_costs"]


def measure_costs(
    build_model: Callable[[Variant], Any],
    variants: Sequence[Variant],
    test_size: Sequence[int],
    latency: bool = True,
    runs: int = 30,
    warmup: int = 5,
    threads: int | None = None,
) -> Dict[str, Dict[str, Any]]:
    """``label -> {params, params_m, gflops, attention_*, latency_ms, latency_iqr_ms, latency_ratio}``."""
    models = {v.label: build_model(v).to("cpu").eval() for v in variants}
    baseline = next((v.label for v in variants if v.spec is None), None)
    measured = measure_model_costs(
        models,
        test_size,
        baseline=baseline,
        latency=latency,
        runs=runs,
        warmup=warmup,
        threads=threads,
    )
    costs: Dict[str, Dict[str, Any]] = {}
    for label, entry in measured.items():
        costs[label] = {
            "params": int(entry["params"]),
            "params_m": float(entry["params_m"]),
            "gflops": float(entry["gflops"]),
            "attention_params_m": float(entry["attention_params_m"]),
            "attention_gflops": float(entry["attention_gflops"]),
            "latency_ms": float(entry["median_ms"]) if latency else None,
            "latency_iqr_ms": float(entry["iqr_ms"]) if latency else None,
            "latency_ratio": float(entry["ratio_median"]) if "ratio_median" in entry else None,
        }
        if latency:
            costs[label].update(
                latency_runs=runs, latency_threads=threads or torch.get_num_threads()
            )
    return costs

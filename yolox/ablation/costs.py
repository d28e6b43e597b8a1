"""Cost of each variant: params and GFLOPs at the test size, and fused batch-1 CPU latency.

Costs do not depend on the trained weights, so they are measured on freshly built models. The
latency of all variants is measured in one interleaved session (random order every round), so
machine drift affects every variant alike; the ratio to the baseline (the variant without
attention) is the median of per-round ratios (``paired_ratio``), which cancels the drift that a
ratio of two medians still carries.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Sequence

import torch

from yolox.ablation.plan import Variant

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
    from yolox.utils.model_utils import fuse_model, profile_model
    from yolox.utils.timing import interleaved_latency, latency_against_baseline

    costs: Dict[str, Dict[str, Any]] = {}
    models: Dict[str, torch.nn.Module] = {}
    for variant in variants:
        model = build_model(variant).to("cpu").eval()
        info = profile_model(model, tuple(test_size))
        costs[variant.label] = {
            "params": int(info["params"]),
            "params_m": float(info["params_m"]),
            "gflops": float(info["gflops"]),
            "attention_params_m": float(info["attention_params_m"]),
            "attention_gflops": float(info["attention_gflops"]),
            "latency_ms": None,
            "latency_iqr_ms": None,
            "latency_ratio": None,
        }
        models[variant.label] = model
    if not latency:
        return costs

    height, width = int(test_size[0]), int(test_size[1])
    image = torch.rand(1, 3, height, width) * 255.0
    fused = {label: fuse_model(model) for label, model in models.items()}

    def runner(model: torch.nn.Module) -> Callable[[], object]:
        def call() -> object:
            with torch.inference_mode():
                return model(image)

        return call

    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        runners = {label: runner(m) for label, m in fused.items()}
        cpu = torch.device("cpu")
        baseline = next((v.label for v in variants if v.spec is None), None)
        if baseline is None:
            timings = interleaved_latency(runners, cpu, runs=runs, warmup=warmup)
        else:
            timings = latency_against_baseline(runners, cpu, baseline, runs=runs, warmup=warmup)
    finally:
        torch.set_num_threads(old_threads)
    for label, stats in timings.items():
        costs[label]["latency_ms"] = float(stats["median_ms"])
        costs[label]["latency_iqr_ms"] = float(stats["iqr_ms"])
        if "ratio_median" in stats:
            costs[label]["latency_ratio"] = float(stats["ratio_median"])
    costs_meta = {"latency_runs": runs, "latency_threads": threads or old_threads}
    for entry in costs.values():
        entry.update(costs_meta)
    return costs

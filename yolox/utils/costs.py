"""What a model costs: params and GFLOPs at an input size, and batch-1 latency next to a baseline.

The one cost pipeline of the project: ``tools/bench.py`` (attention cost table) and the ablation
report (``yolox.ablation.costs``) both measure through :func:`measure_model_costs`, so their
numbers mean the same thing. Counts come from :func:`~yolox.utils.model_utils.profile_model` on
the model as built (unfused). Latency times the prepared models (conv+BN fused by default) in
one interleaved session, random order every round, so machine drift hits every model alike;
with a baseline, each model's ratio is the median of per-round ratios (``paired_ratio``), which
cancels the drift a ratio of two medians still carries. While timing, denormal floats are
flushed to zero: freshly initialised weights drive deep activations towards denormals, which
slow CPU kernels down by an amount that has nothing to do with the architecture.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Sequence, Union

import torch
from torch import nn

from .model_utils import fuse_model, profile_model
from .precision import precision_autocast
from .timing import interleaved_latency, latency_against_baseline

__all__ = ["denormals_flushed", "timing_settings", "measure_model_costs"]


def denormals_flushed() -> bool:
    """Whether this process currently flushes denormal floats (torch has no getter)."""
    return (torch.tensor([1e-40], dtype=torch.float32) * 1.0).item() == 0.0


@contextmanager
def timing_settings(threads: Optional[int]) -> Iterator[bool]:
    """Threads and denormal flushing for timing; both restored to what they were on exit.

    Yields whether denormals are flushed (False where the CPU cannot).
    """
    threads_before, flush_before = torch.get_num_threads(), denormals_flushed()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.set_flush_denormal(True)  # see the module docstring
    finally:
        torch.set_flush_denormal(flush_before)
        torch.set_num_threads(threads_before)


def measure_model_costs(
    models: Mapping[str, nn.Module],
    size: Sequence[int],
    *,
    baseline: Optional[str] = None,
    latency: bool = True,
    runs: int = 30,
    warmup: int = 5,
    threads: Optional[int] = None,
    device: Union[str, torch.device] = "cpu",
    precision: str = "fp32",
    prepare: Optional[Callable[[nn.Module], nn.Module]] = fuse_model,
) -> Dict[str, Dict[str, Any]]:
    """``label -> costs`` of each model at input ``size`` (height, width).

    Every entry holds :func:`profile_model`'s counts; with ``baseline`` (a label) also
    ``extra_params``/``extra_gflops`` over it; with ``latency`` the timing statistics of
    :func:`~yolox.utils.timing.summarize_ms` (``median_ms``, ``iqr_ms``, ...) and, with a
    baseline, ``ratio_median``/``ratio_q1``/``ratio_q3``. ``prepare`` turns the evaluated model
    into what is timed (None: as built); ``precision``: ``fp32`` or ``bf16`` autocast.
    """
    height, width = int(size[0]), int(size[1])
    costs: Dict[str, Dict[str, Any]] = {
        label: dict(profile_model(model, (height, width))) for label, model in models.items()
    }
    if baseline is not None:
        base = costs[baseline]
        for entry in costs.values():
            entry["extra_params"] = entry["params"] - base["params"]
            entry["extra_gflops"] = entry["gflops"] - base["gflops"]
    if not latency:
        return costs

    device = torch.device(device)
    image = torch.rand(1, 3, height, width, device=device) * 255.0

    def runner(model: nn.Module) -> Callable[[], object]:
        def call() -> object:
            with torch.inference_mode(), precision_autocast(device, precision):
                return model(image)

        return call

    runners = {}
    for label, model in models.items():
        model = model.eval().to(device)
        runners[label] = runner(prepare(model) if prepare is not None else model)
    with timing_settings(threads):
        if baseline is None:
            timings = interleaved_latency(runners, device, runs=runs, warmup=warmup)
        else:
            timings = latency_against_baseline(runners, device, baseline, runs=runs, warmup=warmup)
    for label, stats in timings.items():
        costs[label].update(stats)
    return costs

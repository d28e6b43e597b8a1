"""fp32 against a candidate (int8, bf16): AP on the exp's validation set and CPU latency.

Both comparisons run the exported files through :mod:`yolox.deploy.runtimes`, so they measure
what ships: the AP comes from the exp's own evaluator (the same data and metric as training),
the latency from both files timed run by run on the same batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np

from .exported import ExportedModel
from .runtimes import open_runtime

__all__ = ["ApComparison", "SpeedComparison", "compare_ap", "compare_speed", "score_exported"]

PathLike = Union[str, os.PathLike]


def score_exported(
    exp: Any, path: PathLike, batch_size: int = 8, backend: Any = None, evaluator: Any = None
) -> tuple:
    """(AP50:95, AP50) in points (0-100) of an exported model on the exp's validation set;
    pass ``evaluator`` to score several models without loading the validation set again."""
    model = ExportedModel(path, backend=backend)
    evaluator = evaluator or exp.get_evaluator(batch_size, False)
    ap50_95, ap50, _ = exp.eval(model, evaluator, False)
    return 100.0 * float(ap50_95), 100.0 * float(ap50)


@dataclass
class ApComparison:
    """AP of the fp32 and int8 models on the same validation set, in points."""

    fp32: tuple
    int8: tuple
    label: str = "int8"  # what the candidate is ("int8", "bf16")

    @property
    def drop(self) -> float:
        """AP50:95 points lost by quantization (negative when int8 scores higher)."""
        return self.fp32[0] - self.int8[0]

    def table(self) -> str:
        return "\n".join(
            [
                "| model | AP50:95 (%) | AP50 (%) |",
                "|---|---:|---:|",
                f"| fp32 | {self.fp32[0]:.2f} | {self.fp32[1]:.2f} |",
                f"| {self.label} | {self.int8[0]:.2f} | {self.int8[1]:.2f} |",
                f"| drop | {self.drop:.2f} | {self.fp32[1] - self.int8[1]:.2f} |",
            ]
        )


def compare_ap(
    exp: Any, fp32_path: PathLike, int8_path: PathLike, batch_size: int = 8, label: str = "int8"
) -> ApComparison:
    """Score both exported models on the exp's validation set (loaded once)."""
    evaluator = exp.get_evaluator(batch_size, False)
    return ApComparison(
        fp32=score_exported(exp, fp32_path, evaluator=evaluator),
        int8=score_exported(exp, int8_path, evaluator=evaluator),
        label=label,
    )


@dataclass
class SpeedComparison:
    """Median milliseconds per batch of the fp32 and the int8 model, timed side by side."""

    fp32_ms: float
    int8_ms: float
    batch: int
    runs: int
    label: str = "int8"

    @property
    def int8_pays(self) -> bool:
        return self.int8_ms < self.fp32_ms

    def table(self) -> str:
        ratio = self.int8_ms / self.fp32_ms
        return "\n".join(
            [
                f"| model | median ms per batch of {self.batch} ({self.runs} runs) | vs fp32 |",
                "|---|---:|---:|",
                f"| fp32 | {self.fp32_ms:.1f} | 1.00 |",
                f"| {self.label} | {self.int8_ms:.1f} | {ratio:.2f} |",
            ]
        )


def compare_speed(
    fp32_path: PathLike,
    int8_path: PathLike,
    batch: np.ndarray,
    runs: int = 10,
    warmup: int = 3,
    threads: Optional[int] = None,
    label: str = "int8",
) -> SpeedComparison:
    """Time both exported models on the same ``batch`` (float32 NCHW), interleaved run by run
    after ``warmup`` runs each (:func:`yolox.utils.timing.interleaved_latency`); medians."""
    import torch

    from yolox.utils.timing import interleaved_latency

    feed = np.ascontiguousarray(batch, dtype=np.float32)
    models = {
        "fp32": open_runtime(fp32_path, threads=threads),
        "int8": open_runtime(int8_path, threads=threads),
    }
    runners = {name: (lambda m=model: m.run(feed)) for name, model in models.items()}
    stats = interleaved_latency(runners, torch.device("cpu"), runs=runs, warmup=warmup)
    return SpeedComparison(
        fp32_ms=stats["fp32"]["median_ms"],
        int8_ms=stats["int8"]["median_ms"],
        batch=int(feed.shape[0]),
        runs=runs,
        label=label,
    )

"""int8 post-training quantization of exported models, checked on the exp's validation AP.

Calibration images come from the exp's *training* set, letterboxed exactly as inference does
(:func:`yolox.inference.letterbox`); the fp32 and int8 models are then scored by the exp's own
evaluator, so the AP drop is measured on the same data and with the same metric as training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Sequence, Union

import numpy as np
from loguru import logger

from .onnx_predictor import ExportedModel
from .predictor import letterbox

__all__ = ["ApComparison", "calibration_images", "compare_ap", "score_exported"]


def calibration_images(exp: Any, count: int, test_size: Sequence[int]) -> List[np.ndarray]:
    """``count`` training images of ``exp`` (evenly spread over the set), letterboxed to
    ``test_size`` as float32 CHW arrays; unreadable images are skipped with a warning."""
    from yolox.data.datasets.errors import DatasetError

    if count < 1:
        raise ValueError(f"the number of calibration images must be >= 1, got {count}")
    dataset = exp.get_dataset()
    if len(dataset) == 0:
        raise ValueError("the exp's training set is empty: no calibration images")
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round())
    images = []
    for index in indices.astype(int):
        try:
            chw, _ = letterbox(dataset.load_image(int(index)), test_size)
        except DatasetError as err:
            logger.warning(f"calibration: skipping {err}")
            continue
        images.append(chw)
    if not images:
        raise ValueError("no readable calibration image in the exp's training set")
    return images


def score_exported(
    exp: Any, path: Union[str, os.PathLike], batch_size: int = 8, backend: Any = None
) -> tuple:
    """(AP50:95, AP50) in points (0-100) of an exported model on the exp's validation set."""
    model = ExportedModel(path, backend=backend)
    evaluator = exp.get_evaluator(batch_size, False)
    ap50_95, ap50, _ = exp.eval(model, evaluator, False)
    return 100.0 * float(ap50_95), 100.0 * float(ap50)


@dataclass
class ApComparison:
    """AP of the fp32 and int8 models on the same validation set, in points."""

    fp32: tuple
    int8: tuple

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
                f"| int8 | {self.int8[0]:.2f} | {self.int8[1]:.2f} |",
                f"| drop | {self.drop:.2f} | {self.fp32[1] - self.int8[1]:.2f} |",
            ]
        )


def compare_ap(
    exp: Any,
    fp32_path: Union[str, os.PathLike],
    int8_path: Union[str, os.PathLike],
    batch_size: int = 8,
) -> ApComparison:
    """Score both exported models on the exp's validation set."""
    return ApComparison(
        fp32=score_exported(exp, fp32_path, batch_size),
        int8=score_exported(exp, int8_path, batch_size),
    )

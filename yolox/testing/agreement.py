"""How closely two models' detections agree (an int8 model against its float32 original)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch

from yolox.utils.boxes import bboxes_iou, postprocess

__all__ = ["DetectionAgreement", "detection_agreement"]


@dataclass
class DetectionAgreement:
    """Per reference detection (the ``top_k`` most confident of each image above ``min_score``):
    the IoU of the best same-class candidate box and the score difference to it; plus the
    numbers of detections above ``min_score`` in each model, summed over the images."""

    ious: np.ndarray
    score_diffs: np.ndarray
    reference_count: int
    candidate_count: int

    def matched(self, min_iou: float = 0.5) -> float:
        """The fraction of reference detections with a twin of IoU >= ``min_iou``."""
        return float((self.ious >= min_iou).mean()) if len(self.ious) else 0.0

    def summary(self) -> str:
        if not len(self.ious):
            return "no reference detections"
        return (
            f"{len(self.ious)} detections, {self.matched():.0%} matched at IoU 0.5, IoU min {self.ious.min():.3f} median "
            f"{np.median(self.ious):.3f}, |score diff| max {self.score_diffs.max():.3f} median "
            f"{np.median(self.score_diffs):.3f}, confident {self.reference_count} vs "
            f"{self.candidate_count}"
        )


def detection_agreement(
    reference: np.ndarray,
    candidate: np.ndarray,
    num_classes: int,
    top_k: int = 5,
    min_score: float = 0.3,
    nms: float = 0.45,
) -> DetectionAgreement:
    """Compare decoded outputs [B, N, 5 + C] of two models on the same images after
    postprocessing (score threshold, class-wise NMS). Candidates are kept down to a third of
    ``min_score``, so that a reference detection whose twin scores just below the threshold
    still finds it (the score difference then says by how much)."""
    low = min_score / 3
    ref_rows = postprocess(torch.from_numpy(reference), num_classes, low, nms)
    cand_rows = postprocess(torch.from_numpy(candidate), num_classes, low, nms)
    ious: List[float] = []
    diffs: List[float] = []
    ref_count = cand_count = 0
    for ref, cand in zip(ref_rows, cand_rows):
        ref_scores, cand_scores = _scores(ref), _scores(cand)
        ref_count += int((ref_scores >= min_score).sum())
        cand_count += int((cand_scores >= min_score).sum())
        for row, score in list(zip(ref, ref_scores))[:top_k] if ref is not None else []:
            if score < min_score:
                break
            same_class = cand[cand[:, 6] == row[6]] if cand is not None else None
            if same_class is None or not len(same_class):
                ious.append(0.0)
                diffs.append(float(score))
                continue
            overlap = bboxes_iou(row[None, :4], same_class[:, :4])[0]
            best = int(overlap.argmax())
            ious.append(float(overlap[best]))
            diffs.append(abs(float(score) - float(same_class[best, 4] * same_class[best, 5])))
    return DetectionAgreement(np.array(ious), np.array(diffs), ref_count, cand_count)


def _scores(rows: Optional[torch.Tensor]) -> Sequence[float]:
    return np.zeros(0) if rows is None else (rows[:, 4] * rows[:, 5]).numpy()

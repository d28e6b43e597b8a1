"""What every evaluator does the same way: infer over the loader, gather ranks, score on rank 0."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from yolox.utils.detections import Detections
from yolox.utils.dist import broadcast_object, is_main_process, synchronize

from .inference import InferenceTiming, gather_detections, run_inference

__all__ = ["DetectionEvaluator", "Summary", "left_out_note"]

Summary = Tuple[float, float, str]


def left_out_note(
    total: int,
    scored: int,
    skipped_at_load: Sequence[Tuple[str, str]] = (),
    unreadable: int = 0,
    dropped_boxes: int = 0,
) -> Optional[str]:
    """One line on what the scores leave out and why (None when nothing was left out).

    Images the loader skipped (missing or undecodable files), images it blanked during the
    evaluation (unreadable) and boxes dropped as degenerate are not in the scoring ground
    truth: the scores cover exactly what the model was evaluated on.
    """
    reasons: Dict[str, int] = {}
    for _, message in skipped_at_load:
        reason = message.split(";")[0].split(": ")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    if unreadable:
        reasons["unreadable when evaluated"] = unreadable
    other = total - scored - sum(reasons.values())
    if other > 0:
        reasons["not in the evaluation loader"] = other
    if scored == total and not dropped_boxes:
        return None
    parts = [f"scored {scored} of {total} images"]
    if reasons:
        parts.append("left out: " + ", ".join(f"{n} {r}" for r, n in reasons.items()))
    if dropped_boxes:
        parts.append(f"{dropped_boxes} degenerate boxes left out of the ground truth")
    return "; ".join(parts)


class DetectionEvaluator:
    """Template: subclasses key the per-image results (``_per_image``) and score them (``_score``)."""

    progress_desc = "eval"

    def __init__(
        self,
        dataloader: Any,
        img_size: Sequence[int],
        confthre: float,
        nmsthre: float,
        num_classes: int,
    ) -> None:
        self.dataloader = dataloader
        self.img_size = tuple(img_size)
        self.confthre = confthre
        self.nmsthre = nmsthre
        self.num_classes = num_classes

    def _per_image(self, results: List[Detections]) -> Dict[Any, Detections]:
        raise NotImplementedError

    def _score(self, per_image: Dict[Any, Detections], timing: InferenceTiming) -> Summary:
        raise NotImplementedError

    def evaluate(
        self,
        model: nn.Module,
        distributed: bool = False,
        half: bool = False,
        decoder: Optional[Callable[..., torch.Tensor]] = None,
        test_size: Optional[Sequence[int]] = None,
        return_outputs: bool = False,
    ) -> Union[Summary, Tuple[Summary, Dict[Any, Dict[str, np.ndarray]]]]:
        """``(AP50:95, AP50, summary)`` on every rank (rank 0 scores and shares the result)."""
        results, timing = run_inference(
            model,
            self.dataloader,
            self.num_classes,
            self.confthre,
            self.nmsthre,
            self.img_size,
            half=half,
            decoder=decoder,
            test_size=test_size,
            desc=self.progress_desc,
        )
        if distributed:
            results, timing = gather_detections(results, timing)
        per_image = self._per_image(results)

        summary: Summary = (0.0, 0.0, "")
        if is_main_process():
            summary = self._score(per_image, timing)
        if distributed:
            summary = broadcast_object(summary, src=0)
            synchronize()
        if return_outputs:
            outputs = {
                key: {"bboxes": r.boxes, "scores": r.scores, "categories": r.class_ids}
                for key, r in per_image.items()
            }
            return summary, outputs
        return summary

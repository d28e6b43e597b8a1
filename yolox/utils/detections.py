"""The one detections type: one image's boxes in its original pixels, from the model's rows.

Evaluators, the Predictor, the ONNX predictor and the demo all convert ``postprocess`` rows
(letterboxed pixels) with :func:`detections_from_postprocess`, so there is one place where the
letterbox is undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .boxes import postprocess

__all__ = ["Detections", "detections_from_postprocess", "detections_of_batch"]


@dataclass
class Detections:
    """Boxes (x1, y1, x2, y2) in original-image pixels, scores = obj * class_conf, class ids/names.

    Arrays are aligned and sorted by descending score; an image without detections has ``n = 0``.
    ``image_id`` is the dataset's id of the image when an evaluator produced it (else None).
    """

    boxes: np.ndarray  # [n, 4] float32
    scores: np.ndarray  # [n] float32
    class_ids: np.ndarray  # [n] int64
    class_names: List[str] = field(default_factory=list)  # [n], one name per detection
    image_size: Tuple[int, int] = (0, 0)  # (height, width) of the original image
    image_id: Any = None
    # False when an evaluation loader could not decode the image and gave a blank one:
    # evaluators leave such images, and their ground truth, out of the scores
    readable: bool = True

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls, image_size: Tuple[int, int] = (0, 0), image_id: Any = None) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            [],
            image_size,
            image_id,
        )

    def filter(self, min_score: float) -> Detections:
        """Only the detections scoring at least ``min_score`` (handy for drawing)."""
        keep = self.scores >= min_score
        names = [n for n, k in zip(self.class_names, keep) if k]
        return Detections(
            self.boxes[keep],
            self.scores[keep],
            self.class_ids[keep],
            names,
            self.image_size,
            self.image_id,
        )

    def to_list(self) -> List[Dict[str, Any]]:
        """JSON-friendly records: ``{"box": [x1, y1, x2, y2], "score", "class_id", "class_name"}``."""
        return [
            {
                "box": [float(v) for v in box],
                "score": float(score),
                "class_id": int(cid),
                "class_name": name,
            }
            for box, score, cid, name in zip(
                self.boxes, self.scores, self.class_ids, self.class_names
            )
        ]


def _class_name(class_names: Optional[Sequence[str]], class_id: int) -> str:
    if class_names is not None and 0 <= class_id < len(class_names):
        return str(class_names[class_id])
    return str(class_id)


def detections_from_postprocess(
    output: Optional[np.ndarray],
    ratio: float,
    image_size: Tuple[int, int],
    class_names: Optional[Sequence[str]] = None,
    clip: bool = True,
    image_id: Any = None,
) -> Detections:
    """Turn one image's ``postprocess`` rows [n, 7] (letterboxed pixels) into :class:`Detections`.

    Boxes are divided by the letterbox ratio (the image sits at the top-left, so no offset) and,
    with ``clip``, clipped to the original image (the evaluators score unclipped boxes, as
    official YOLOX does).
    """
    size = (int(image_size[0]), int(image_size[1]))
    if output is None or len(output) == 0:
        return Detections.empty(size, image_id)
    rows = np.asarray(output, dtype=np.float64)
    boxes = rows[:, :4] / ratio
    if clip:
        height, width = size
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    class_ids = rows[:, 6].astype(np.int64)
    return Detections(
        boxes=boxes.astype(np.float32),
        scores=(rows[:, 4] * rows[:, 5]).astype(np.float32),
        class_ids=class_ids,
        class_names=[_class_name(class_names, int(c)) for c in class_ids],
        image_size=size,
        image_id=image_id,
    )


def detections_of_batch(
    outputs: Any,
    ratios: Sequence[float],
    image_sizes: Sequence[Tuple[int, int]],
    num_classes: int,
    conf: float,
    nms: float,
    class_agnostic: bool = False,
    class_names: Optional[Sequence[str]] = None,
    clip: bool = True,
) -> List[Detections]:
    """One :class:`Detections` per image from a batch's decoded outputs ``[B, N, 5 + C]``
    (a torch tensor): ``postprocess`` (score threshold, NMS), then
    :func:`detections_from_postprocess`; the one way both predictors (PyTorch and exported)
    turn a forward into detections."""
    rows = postprocess(outputs, num_classes, conf, nms, class_agnostic)
    return [
        detections_from_postprocess(
            None if r is None else r.cpu().numpy(), ratio, size, class_names, clip=clip
        )
        for r, ratio, size in zip(rows, ratios, image_sizes)
    ]

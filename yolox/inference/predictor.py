"""``Predictor``: one call from a BGR image to detections in the image's own pixels.

Preprocessing is the evaluation letterbox (``yolox.data.ValTransform``): resize by
``r = letterbox_ratio(...) = min(H / h, W / w)`` at the top-left of a 114-grey canvas, BGR, float, no normalisation,
so predictions match what ``tools/eval.py`` scores.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from loguru import logger
from torch import nn

from yolox.data import ValTransform
from yolox.data.datasets.image_io import read_image as read_image_file
from yolox.utils.boxes import letterbox_ratio
from yolox.utils.detections import Detections, detections_of_batch
from yolox.utils.device import select_device
from yolox.utils.model_utils import fuse_model
from yolox.utils.precision import describe_precision, inference_precision, precision_autocast

from .fast import optimize_for_inference
from .loading import class_names_for, load_model
from .pretrained import pretrained_weights

__all__ = ["Predictor", "letterbox", "read_image"]

ImageLike = Union[np.ndarray, str, os.PathLike]


def read_image(image: ImageLike) -> np.ndarray:
    """A BGR uint8 array from an array (returned as is) or an image file."""
    if isinstance(image, np.ndarray):
        return image
    return read_image_file(image)  # training's reader: truncated JPEG, 16-bit, non-ASCII paths


def letterbox(
    image_bgr: np.ndarray, test_size: Sequence[int], legacy: bool = False
) -> Tuple[np.ndarray, float]:
    """(CHW float32 network input, ratio r): the evaluation transform, shared with the datasets."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] < 3:
        raise ValueError(f"expected an H x W x 3 BGR image, got shape {image_bgr.shape}")
    chw, _ = ValTransform(legacy=legacy)(image_bgr, None, tuple(test_size))
    ratio = letterbox_ratio(test_size, image_bgr.shape[0], image_bgr.shape[1])
    return chw, ratio


class Predictor:
    """Run a YOLOX model on single images (see ``predict``); the demo and the Python API use this.

    ``conf`` filters on obj * class_conf; ``nms`` is the IoU threshold of per-class NMS
    (``class_agnostic=True`` for one NMS over all classes). ``fp16`` is honoured on CUDA only.
    ``clip_boxes`` clips boxes to the image (the evaluators do not clip).
    ``fast`` applies :func:`yolox.inference.fast.optimize_for_inference` (conv+BN fusion, SPPF
    pooling, channels-last; implies ``fuse``); ``compile`` adds ``torch.compile`` (slow first call).
    ``precision`` (``auto``/``fp32``/``bf16``): bf16 autocast on CPU; ``auto`` uses it on the fast
    path of CPUs with AMX or AVX-512 BF16 (:func:`yolox.utils.precision.inference_precision`).
    """

    def __init__(
        self,
        model: nn.Module,
        class_names: Optional[Sequence[str]] = None,
        test_size: Sequence[int] = (640, 640),
        conf: float = 0.3,
        nms: float = 0.3,
        device: Union[str, torch.device, None] = "auto",
        fp16: bool = False,
        fuse: bool = False,
        class_agnostic: bool = False,
        legacy: bool = False,
        clip_boxes: bool = True,
        fast: bool = False,
        compile: bool = False,
        precision: str = "auto",
    ) -> None:
        self.device = select_device(device)
        self.model = model.eval().to(self.device)
        model.head.decode_in_inference = True
        if fast or compile:
            self.model = optimize_for_inference(self.model, fuse=True, compile=compile)
        elif fuse:
            fuse_model(self.model)
        self.fp16 = bool(fp16) and self.device.type == "cuda"
        if fp16 and not self.fp16:
            logger.warning("fp16 ignored: half precision is only used on CUDA")
        if self.fp16:
            self.model.half()
        self.precision = inference_precision(precision, self.device, fast or compile, self.fp16)
        logger.info(describe_precision(precision, self.precision, self.device))
        self.num_classes = int(model.head.num_classes)
        self.class_names = (
            tuple(class_names)
            if class_names is not None
            else tuple(map(str, range(self.num_classes)))
        )
        self.test_size = (int(test_size[0]), int(test_size[1]))
        self.conf = float(conf)
        self.nms = float(nms)
        self.class_agnostic = class_agnostic
        self.legacy = legacy
        self.clip_boxes = clip_boxes
        self.model.head.decode_in_inference = True
        self.run_name: Optional[str] = None  # the training run, when built from its checkpoint

    @classmethod
    def from_checkpoint(
        cls,
        path: Union[str, os.PathLike],
        exp: Any = None,
        device: Union[str, torch.device, None] = "auto",
        test_size: Optional[Sequence[int]] = None,
        **kwargs: Any,
    ) -> Predictor:
        """Rebuild the model from ``path`` (see :func:`yolox.inference.load_model`).

        ``test_size`` defaults to the exp's, else the one the checkpoint was trained with, else
        640 x 640; ``kwargs`` go to the constructor. ``run_name`` is the checkpoint's run.
        """
        loaded = load_model(path, exp=exp, device=device)
        predictor = cls(
            loaded.model,
            class_names_for(loaded, exp),
            test_size=test_size or loaded.test_size(exp),
            device=device,
            **kwargs,
        )
        predictor.run_name = loaded.settings.exp_name
        return predictor

    @classmethod
    def from_pretrained(
        cls,
        name: str,
        device: Union[str, torch.device, None] = "auto",
        test_size: Optional[Sequence[int]] = None,
        **kwargs: Any,
    ) -> Predictor:
        """The official COCO weights of zoo model ``name`` (``"yolox-s"``), downloaded once.

        See :mod:`yolox.inference.pretrained` for the source, the cache and the checks; the
        official exp of ``name`` supplies the test size and the 80 COCO class names.
        """
        from yolox.exp import get_exp

        return cls.from_checkpoint(
            pretrained_weights(name),
            exp=get_exp(None, name),
            device=device,
            test_size=test_size,
            **kwargs,
        )

    def preprocess(self, image_bgr: np.ndarray) -> Tuple[torch.Tensor, float]:
        """Network input [1, 3, H, W] on the device and the letterbox ratio."""
        chw, ratio = letterbox(image_bgr, self.test_size, self.legacy)
        tensor = torch.from_numpy(chw).unsqueeze(0).to(self.device)
        return (tensor.half() if self.fp16 else tensor), ratio

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Decoded outputs [B, N, 5 + C] (float32) for a preprocessed batch."""
        with precision_autocast(self.device, self.precision):
            return self.model(batch).float()

    def predict(self, image: ImageLike) -> Detections:
        """Detections for one BGR image (array or file path), boxes in its original pixels."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageLike]) -> List[Detections]:
        """Detections for several images (letterboxed to the same test size, one forward)."""
        arrays = [read_image(img) for img in images]
        if not arrays:
            return []
        tensors, ratios = zip(*(self.preprocess(a) for a in arrays))
        outputs = self.forward(torch.cat(tensors, 0))
        return detections_of_batch(
            outputs,
            ratios,
            [a.shape[:2] for a in arrays],
            self.num_classes,
            self.conf,
            self.nms,
            self.class_agnostic,
            self.class_names,
            clip=self.clip_boxes,
        )

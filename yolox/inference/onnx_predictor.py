"""``OnnxPredictor``: the Predictor interface on top of an exported ONNX model (ONNX Runtime).

Handles both export flavours: raw head outputs (default export; decoded here with NumPy) and
``--decode_in_inference`` graphs. Export metadata (written by ``yolox.inference.export``)
supplies the class names and whether the graph decodes; without it, pass them explicitly.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from yolox.utils.boxes import postprocess
from yolox.utils.detections import Detections, detections_from_postprocess

from .decode import decode_outputs
from .predictor import ImageLike, letterbox, read_image

__all__ = ["OnnxModel", "OnnxPredictor", "read_onnx_metadata"]


def read_onnx_metadata(session: Any) -> Dict[str, Any]:
    """The ``yolox.*`` custom metadata of an ONNX Runtime session, JSON-decoded."""
    raw = session.get_modelmeta().custom_metadata_map or {}
    out = {}
    for key, value in raw.items():
        if key.startswith("yolox."):
            try:
                out[key[len("yolox.") :]] = json.loads(value)
            except json.JSONDecodeError:
                out[key[len("yolox.") :]] = value
    return out


class OnnxPredictor:
    """Detections from an ONNX file, with the same pre/post-processing as :class:`Predictor`."""

    def __init__(
        self,
        onnx_path: Union[str, os.PathLike],
        class_names: Optional[Sequence[str]] = None,
        test_size: Optional[Sequence[int]] = None,
        conf: float = 0.3,
        nms: float = 0.3,
        decoded: Optional[bool] = None,
        providers: Optional[List[str]] = None,
        class_agnostic: bool = False,
    ) -> None:
        import onnxruntime

        self.session = onnxruntime.InferenceSession(
            os.fspath(onnx_path), providers=providers or ["CPUExecutionProvider"]
        )
        meta = read_onnx_metadata(self.session)
        self.input_name = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        static = tuple(shape[2:]) if all(isinstance(s, int) for s in shape[2:]) else None
        #: (H, W) the graph was exported for, or None when it takes any size
        self.static_size = static
        #: batch size the graph was exported for, or None when it is dynamic
        self.static_batch = shape[0] if isinstance(shape[0], int) else None
        size = test_size or static or meta.get("test_size") or (640, 640)
        self.test_size = (int(size[0]), int(size[1]))
        self.decoded = bool(meta.get("decode_in_inference", False)) if decoded is None else decoded
        self.strides = tuple(meta.get("strides", (8, 16, 32)))
        num_outputs = self.session.get_outputs()[0].shape[-1]
        names = class_names or meta.get("class_names")
        self.num_classes = (
            int(num_outputs) - 5 if isinstance(num_outputs, int) else len(names or [])
        )
        self.class_names = tuple(names) if names else tuple(map(str, range(self.num_classes)))
        self.conf = float(conf)
        self.nms = float(nms)
        self.class_agnostic = class_agnostic

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Decoded outputs [B, N, 5 + C] for a letterboxed float32 batch [B, 3, H, W]."""
        out = self.session.run(None, {self.input_name: batch.astype(np.float32)})[0]
        return out if self.decoded else decode_outputs(out, batch.shape[2:], self.strides)

    def predict(self, image: ImageLike) -> Detections:
        array = read_image(image)
        chw, ratio = letterbox(array, self.test_size)
        outputs = torch.from_numpy(self.forward(chw[None]))
        rows = postprocess(outputs, self.num_classes, self.conf, self.nms, self.class_agnostic)[0]
        return detections_from_postprocess(
            None if rows is None else rows.numpy(), ratio, array.shape[:2], self.class_names
        )


class OnnxModel(nn.Module):
    """An ONNX file behind the ``model(images) -> decoded [B, N, 5 + C]`` interface of the
    evaluators, so ``tools/eval.py --backend onnxruntime`` scores the exported model itself.

    A graph exported for batch 1 is run image by image. No parameters: it runs on the CPU (or
    the ONNX Runtime providers given), whatever device the images come from.
    """

    def __init__(
        self, onnx_path: Union[str, os.PathLike], providers: Optional[List[str]] = None
    ) -> None:
        super().__init__()
        self.runner = OnnxPredictor(onnx_path, providers=providers)

    @property
    def num_classes(self) -> int:
        return self.runner.num_classes

    @property
    def static_size(self) -> Optional[tuple]:
        return self.runner.static_size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch = images.detach().to("cpu", torch.float32).numpy()
        expected = self.runner.static_batch
        if expected is None or expected == batch.shape[0]:
            return torch.from_numpy(self.runner.forward(batch))
        if expected != 1:
            raise ValueError(
                f"the ONNX graph takes batches of exactly {expected} images, got {batch.shape[0]}: "
                f"use a batch size of {expected}, or export with --dynamic"
            )
        return torch.from_numpy(np.concatenate([self.runner.forward(b[None]) for b in batch]))

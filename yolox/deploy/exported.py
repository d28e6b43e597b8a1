"""The Predictor interface on top of exported models: ONNX (ONNX Runtime) or OpenVINO IR.

``ExportedPredictor`` handles both export flavours: raw head outputs (default export; decoded
here with NumPy) and ``--decode_in_inference`` graphs, whatever runtime runs the file (see
:mod:`yolox.deploy.runtimes`). Export metadata (written by :mod:`yolox.deploy.export` and
:mod:`yolox.deploy.openvino_export`) supplies the class names, test size and whether the graph
decodes; without it, pass them explicitly. Pre- and post-processing are the Predictor's own
(:func:`yolox.inference.letterbox`, the same NMS), so both give the same detections.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from yolox.inference.decode import decode_outputs
from yolox.inference.predictor import ImageLike, letterbox, read_image
from yolox.utils.detections import Detections, detections_of_batch
from yolox.utils.errors import UserError

from .runtimes import Runtime, input_hw, open_runtime

__all__ = ["ExportedModel", "ExportedPredictor", "MissingExportMetadata"]


class MissingExportMetadata(UserError):
    """An exported file without this project's metadata, and no class names and size given."""


class ExportedPredictor:
    """Detections from an exported file, with the same pre/post-processing as :class:`Predictor`.

    ``source`` is the exported file or an already open runtime (see
    :mod:`yolox.deploy.runtimes`); ``backend`` is ``"onnxruntime"`` or ``"openvino"``
    (default: from the file suffix); ``runtime_options`` go to the runtime (``threads``;
    ``providers`` for ONNX Runtime). A file without this project's export metadata is refused
    (UserError) unless ``class_names`` and ``test_size`` are both given (or
    ``require_metadata=False``): guessing names ``'0', '1'`` and 640 px would be silently wrong.
    """

    def __init__(
        self,
        source: Union[str, os.PathLike, Runtime],
        class_names: Optional[Sequence[str]] = None,
        test_size: Optional[Sequence[int]] = None,
        conf: float = 0.3,
        nms: float = 0.3,
        decoded: Optional[bool] = None,
        class_agnostic: bool = False,
        backend: Optional[str] = None,
        require_metadata: bool = True,
        **runtime_options: Any,
    ) -> None:
        self.runtime = (
            open_runtime(source, backend, **runtime_options)
            if isinstance(source, (str, os.PathLike))
            else source
        )
        meta = self.runtime.metadata
        if require_metadata and not _has_export_metadata(meta):
            # a static graph's own input size is no guess; names and a dynamic size would be
            if class_names is None or (
                test_size is None and input_hw(self.runtime.input_shape) is None
            ):
                where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the model"
                raise MissingExportMetadata(
                    f"{where} has no YOLOX-Attention export metadata (class names, test size): "
                    "not written by this project's exporters, or an interrupted export; export "
                    "it again, or give the class names and the test size explicitly"
                )
        #: the export metadata (class names, test size, model config, ...)
        self.metadata = meta
        #: (H, W) the graph was exported for, or None when it takes any size
        self.static_size = input_hw(self.runtime.input_shape)
        #: batch size the graph was exported for, or None when it is dynamic
        self.static_batch = self.runtime.input_shape[0]
        size = test_size or self.static_size or meta.get("test_size") or (640, 640)
        self.test_size = (int(size[0]), int(size[1]))
        self.decoded = bool(meta.get("decode_in_inference", False)) if decoded is None else decoded
        self.strides = tuple(meta.get("strides", (8, 16, 32)))
        names = class_names or meta.get("class_names")
        width = self.runtime.output_width
        # the output width, else the export's own count (dynamic graphs), else the names given
        self.num_classes = (
            int(width) - 5 if width is not None else int(meta.get("num_classes", len(names or [])))
        )
        self.class_names = tuple(names) if names else tuple(map(str, range(self.num_classes)))
        self.conf = float(conf)
        self.nms = float(nms)
        self.class_agnostic = class_agnostic

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Decoded outputs [B, N, 5 + C] for a letterboxed float32 batch [B, 3, H, W]."""
        out = self.runtime.run(np.ascontiguousarray(batch, dtype=np.float32))
        return out if self.decoded else decode_outputs(out, batch.shape[2:], self.strides)

    def predict(self, image: ImageLike) -> Detections:
        """Detections for one BGR image (array or file path), boxes in its original pixels."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[ImageLike]) -> List[Detections]:
        """Detections for several images: one forward when the graph takes any batch size."""
        arrays = [read_image(img) for img in images]
        if not arrays:
            return []
        inputs, ratios = zip(*(letterbox(a, self.test_size) for a in arrays))
        batch = np.stack(inputs)
        if self.static_batch is None or self.static_batch == len(arrays):
            outputs = self.forward(batch)
        else:
            outputs = np.concatenate([self.forward(b[None]) for b in batch])
        return detections_of_batch(
            torch.from_numpy(outputs),
            ratios,
            [a.shape[:2] for a in arrays],
            self.num_classes,
            self.conf,
            self.nms,
            self.class_agnostic,
            self.class_names,
        )


def _has_export_metadata(meta: Dict[str, Any]) -> bool:
    """Whether the exporters of this project wrote ``meta`` (they always store these keys)."""
    return all(key in meta for key in ("num_classes", "test_size", "class_names"))


class ExportedModel(nn.Module):
    """An exported file behind the ``model(images) -> decoded [B, N, 5 + C]`` interface of the
    evaluators, so ``tools/eval.py --backend onnxruntime|openvino`` scores the exported model.

    A graph exported for batch 1 is run image by image. No parameters: it runs on the CPU,
    whatever device the images come from.
    """

    def __init__(
        self,
        source: Union[str, os.PathLike, Runtime],
        backend: Optional[str] = None,
        **runtime_options: Any,
    ) -> None:
        super().__init__()
        # the evaluator supplies names and size from the exp: metadata is not needed here
        self.runner = ExportedPredictor(
            source, backend=backend, require_metadata=False, **runtime_options
        )

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
                f"the exported graph takes batches of exactly {expected} images, got "
                f"{batch.shape[0]}: use a batch size of {expected}, or export a dynamic graph"
            )
        return torch.from_numpy(np.concatenate([self.runner.forward(b[None]) for b in batch]))

"""Export to OpenVINO IR, and the bf16 mark of an IR.

The IR is converted from the project's own ONNX export (raw head outputs, dynamic batch and
H/W by default), so the two exports agree by construction; the same ``yolox.*`` metadata (class
names, test size, strides, model config) goes into the IR's ``rt_info``, so
:class:`yolox.deploy.ExportedPredictor` needs nothing but the ``.xml``/``.bin`` pair. int8
quantization of an IR is :mod:`yolox.deploy.quantize_nncf`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional, Sequence, Union

from torch import nn

from yolox.utils.atomic_files import atomic_output

from .export import export_metadata, export_onnx, output_path

__all__ = ["export_openvino", "mark_bf16", "save_openvino"]

PathLike = Union[str, os.PathLike]


def _openvino():
    try:
        import openvino
    except ImportError as exc:
        raise ImportError('OpenVINO export needs openvino: pip install -e ".[deploy]"') from exc
    return openvino


def set_metadata(ov_model: Any, metadata: dict) -> None:
    """Store ``{"yolox.key": json}`` in the model's rt_info under ``yolox/key``."""
    for key, value in metadata.items():
        ov_model.set_rt_info(value, ["yolox", key[len("yolox.") :]])


def save_openvino(ov_model: Any, path: PathLike) -> str:
    """Write ``path`` (.xml) and its .bin, weights kept in their own precision (no fp16)."""
    path = output_path(path)
    if not path.endswith(".xml"):
        raise ValueError(f"an OpenVINO IR path must end in .xml, got {path}")
    with atomic_output(path, companions=(".bin",)) as temp:  # .bin first, then .xml
        _openvino().save_model(ov_model, temp, compress_to_fp16=False)
    return path


def export_openvino(
    model: nn.Module,
    path: PathLike,
    test_size: Sequence[int] = (640, 640),
    class_names: Optional[Sequence[str]] = None,
    config: Any = None,
    dynamic: bool = True,
    batch_size: int = 1,
) -> Any:
    """Write the float32 IR of ``model`` to ``path`` (.xml + .bin); returns the OpenVINO model.

    ``dynamic`` (default) leaves batch, height and width free (H, W multiples of 32); the graph
    returns raw head outputs, decoded by the predictor at whatever size it runs.
    """
    ov = _openvino()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        export_onnx(
            model,
            onnx_path,
            test_size=test_size,
            batch_size=batch_size,
            dynamic=dynamic,
            decode_in_inference=False,
            class_names=class_names,
            config=config,
        )
        ov_model = ov.convert_model(onnx_path)
    set_metadata(ov_model, export_metadata(model, class_names, test_size, False, config))
    save_openvino(ov_model, path)
    return ov_model


def mark_bf16(ov_model: Any) -> Any:
    """``ov_model`` with ``yolox.inference_precision = "bf16"`` in its metadata: the runtimes
    then compile it with OpenVINO's bf16 inference precision hint (the weights stay float32)."""
    ov_model.set_rt_info('"bf16"', ["yolox", "inference_precision"])
    return ov_model

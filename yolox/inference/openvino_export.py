"""Export to OpenVINO IR and int8 post-training quantization with NNCF.

The IR is converted from the project's own ONNX export (raw head outputs, dynamic batch and
H/W by default), so the two exports agree by construction; the same ``yolox.*`` metadata (class
names, test size, strides, model config) goes into the IR's ``rt_info``, so
:class:`yolox.inference.ExportedPredictor` needs nothing but the ``.xml``/``.bin`` pair.

int8: NNCF's post-training quantization (per-channel int8 weights, int8 activations with
ranges measured on calibration images letterboxed exactly as inference does). The detection
head's final 1x1 prediction convs can stay in float32 (``keep_head_fp32``, see
:data:`yolox.inference.quantize.HEAD_OUTPUT_PATTERNS`). With ``accuracy`` (a
:class:`yolox.inference.quantize.ValidationScorer`) NNCF's accuracy control quantizes, scores
the exp's validation AP and puts the operations that cost most AP back into float32 one group
at a time until the drop is within ``max_ap_drop`` points.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
from torch import nn

from yolox.utils.atomic_files import atomic_output

from .export import export_metadata, export_onnx, output_path
from .quantize import HEAD_OUTPUT_PATTERNS, ValidationScorer
from .runtimes import CompiledOpenVino, read_openvino_metadata

__all__ = ["export_openvino", "mark_bf16", "quantize_openvino", "save_openvino"]

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


def quantize_openvino(
    ov_model: Any,
    calibration: Iterable[np.ndarray],
    keep_head_fp32: bool = False,
    fast_bias_correction: Optional[bool] = True,
    accuracy: Optional[ValidationScorer] = None,
    max_ap_drop: float = 1.0,
) -> Any:
    """The int8 model of ``ov_model`` (from :func:`export_openvino`) calibrated on ``calibration``.

    ``fast_bias_correction``: True (NNCF's fast variant), False (the slower full one) or None
    (no bias correction: quicker, for tests). ``calibration``: letterboxed float32 CHW images (see
    :func:`yolox.inference.quantize.calibration_images`). ``accuracy``: quantize with NNCF's
    accuracy control against the exp's validation AP (``max_ap_drop`` AP50:95 points, absolute).
    The metadata is carried over with ``yolox.precision`` set to ``"int8"``.

    Accuracy control runs best in a process of its own, as ``tools/export_openvino.py`` does:
    in a long-lived test process that went on to start subprocesses, one of them crashed
    afterwards (SIGSEGV in the vDSO's clock_gettime; nncf 3.4, openvino 2026.4).
    """
    try:
        import nncf
    except ImportError as exc:
        raise ImportError('int8 quantization needs nncf: pip install -e ".[deploy]"') from exc
    images = [np.ascontiguousarray(a, dtype=np.float32) for a in calibration]
    if not images:
        raise ValueError("int8 calibration needs at least one image")
    options: dict = {
        "subset_size": len(images),
        "preset": nncf.QuantizationPreset.MIXED,
        "fast_bias_correction": bool(fast_bias_correction),
    }
    # NNCF reads fast_bias_correction=None as False (the slow full correction)
    advanced = nncf.AdvancedQuantizationParameters(
        disable_bias_correction=fast_bias_correction is None
    )
    if keep_head_fp32:
        options["ignored_scope"] = nncf.IgnoredScope(
            patterns=list(HEAD_OUTPUT_PATTERNS), validate=False
        )
    calibration_set = nncf.Dataset(images, lambda chw: chw[None])
    if accuracy is None:
        quantized = nncf.quantize(
            ov_model, calibration_set, advanced_parameters=advanced, **options
        )
    else:
        metadata = read_openvino_metadata(ov_model)

        def validate(compiled: Any, indices: Iterable[int]) -> tuple:
            # the per-image raw outputs returned with the AP make NNCF rank operations by how
            # much int8 changes the outputs, and score AP on the whole validation set only
            return accuracy.score(CompiledOpenVino(compiled, metadata), indices)

        quantized = nncf.quantize_with_accuracy_control(
            ov_model,
            calibration_set,
            nncf.Dataset(list(range(len(accuracy))), accuracy.image),
            validate,
            max_drop=float(max_ap_drop),
            drop_type=nncf.DropType.ABSOLUTE,
            advanced_quantization_parameters=advanced,
            **options,
        )
    quantized.set_rt_info('"int8"', ["yolox", "precision"])
    return quantized


def mark_bf16(ov_model: Any) -> Any:
    """``ov_model`` with ``yolox.inference_precision = "bf16"`` in its metadata: the runtimes
    then compile it with OpenVINO's bf16 inference precision hint (the weights stay float32)."""
    ov_model.set_rt_info('"bf16"', ["yolox", "inference_precision"])
    return ov_model

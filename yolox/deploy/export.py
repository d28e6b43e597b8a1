"""Export a model to ONNX (legacy TorchScript-based exporter) or TorchScript (``torch.jit.trace``).

Both run in eval mode on CPU-friendly float32 inputs. ``decode_in_inference`` chooses between
raw head outputs ``(dx, dy, log w, log h, obj, cls...)`` per anchor (the official ONNX default:
decode later with :func:`yolox.inference.decode_outputs`, any input size) and decoded
``(cx, cy, w, h, obj, cls...)`` in input pixels. The decoding grid is built from the feature
map sizes, so a decoded graph traced at one size is only valid at that size; raw graphs with
``dynamic=True`` accept any batch and any H/W that are multiples of 32.

The ONNX opset is pinned (:data:`DEFAULT_OPSET`): 13 is the first with every operator the
attention modules use (``unflatten`` in ema/sa) and per-channel ``DequantizeLinear`` (int8), and
every runtime this project serves reads it (ONNX Runtime, OpenVINO, TensorRT >= 7).
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Dict, Optional, Sequence, Union

import torch
from loguru import logger
from torch import nn

from yolox.utils.atomic_files import atomic_output
from yolox.utils.device import model_device

__all__ = [
    "DEFAULT_OPSET",
    "export_metadata",
    "export_onnx",
    "export_torchscript",
    "output_path",
    "update_onnx_metadata",
]

#: the opset of every export unless one is asked for (see the module docstring)
DEFAULT_OPSET = 13


def export_metadata(
    model: nn.Module,
    class_names: Optional[Sequence[str]],
    test_size: Sequence[int],
    decode: bool,
    config: Any = None,
) -> Dict[str, str]:
    """JSON strings stored in the exported file, so consumers need no exp or checkpoint."""
    meta = {
        "class_names": list(class_names) if class_names is not None else None,
        "num_classes": int(model.head.num_classes),
        "test_size": [int(test_size[0]), int(test_size[1])],
        "decode_in_inference": bool(decode),
        "strides": [int(s) for s in model.head.strides],
    }
    if config is not None:
        meta["model_config"] = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    return {f"yolox.{k}": json.dumps(v) for k, v in meta.items()}


def update_onnx_metadata(proto: Any, metadata: Dict[str, str]) -> None:
    """Add ``metadata`` to an ONNX model's ``metadata_props``, replacing the keys it has and
    keeping the others (``onnx.helper.set_model_props`` alone would drop them)."""
    import onnx

    props = {entry.key: entry.value for entry in proto.metadata_props}
    props.update(metadata)
    onnx.helper.set_model_props(proto, props)


def output_path(path: Union[str, os.PathLike]) -> str:
    """``path`` as a string, its folder created: exporters write where they are told."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


def _prepare(model: nn.Module, decode: bool) -> nn.Module:
    model.eval()
    model.head.decode_in_inference = decode
    return model


def _onnx_export(model, dummy, path, opset, input_name, output_name, dynamic):
    axes = None
    if dynamic:
        axes = {
            input_name: {0: "batch", 2: "height", 3: "width"},
            output_name: {0: "batch", 1: "anchors"},
        }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python ints are expected
        kwargs = dict(
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
        )
        if "dynamo" in torch.onnx.export.__code__.co_varnames:
            kwargs["dynamo"] = False
        torch.onnx.export(model, (dummy,), os.fspath(path), **kwargs)


def export_onnx(
    model: nn.Module,
    path: Union[str, os.PathLike],
    test_size: Sequence[int] = (640, 640),
    batch_size: int = 1,
    opset: Optional[int] = None,
    dynamic: bool = False,
    decode_in_inference: bool = False,
    input_name: str = "images",
    output_name: str = "output",
    class_names: Optional[Sequence[str]] = None,
    config: Any = None,
    simplify: bool = True,
) -> Dict[str, Any]:
    """Write ``path``; returns ``{"path", "opset", "simplified"}``.

    ``opset=None`` means :data:`DEFAULT_OPSET`; an explicit opset is used as is and fails with
    the exporter's message when an operator needs a later one (official YOLOX's 11 suits models
    without ema/sa attention). ``simplify`` runs onnxsim when installed.
    """
    import onnx

    path = output_path(path)
    if dynamic and decode_in_inference:
        logger.warning(
            "a dynamic graph that decodes in inference: the decoding grid is fixed at the export size "
            f"{tuple(test_size)}; other sizes need the raw export plus yolox.inference.decode_outputs"
        )
    model = _prepare(model, decode_in_inference)
    device = model_device(model)
    dummy = torch.zeros(batch_size, 3, int(test_size[0]), int(test_size[1]), device=device)
    chosen = DEFAULT_OPSET if opset is None else int(opset)
    with atomic_output(path) as temp:  # a killed export leaves the previous file
        _onnx_export(model, dummy, temp, chosen, input_name, output_name, dynamic)
        proto, simplified = _load_onnx(temp, simplify)
        update_onnx_metadata(
            proto, export_metadata(model, class_names, test_size, decode_in_inference, config)
        )
        onnx.checker.check_model(proto)
        onnx.save(proto, temp)
    logger.info(
        f"wrote {path} (opset {chosen}, dynamic={dynamic}, decode_in_inference={decode_in_inference})"
    )
    return {"path": os.fspath(path), "opset": chosen, "simplified": simplified}


def _load_onnx(path: str, simplify: bool) -> tuple:
    """(ONNX model of ``path``, simplified?): simplified by onnxsim when asked and installed."""
    import onnx

    proto = onnx.load(os.fspath(path))
    if not simplify:
        return proto, False
    try:
        import onnxsim
    except ImportError:
        logger.info("onnxsim not installed: skipping simplification (pip install onnxsim)")
        return proto, False
    proto, ok = onnxsim.simplify(proto)
    if not ok:
        raise RuntimeError("onnxsim could not validate the simplified model")
    return proto, True


def export_torchscript(
    model: nn.Module,
    path: Union[str, os.PathLike],
    test_size: Sequence[int] = (640, 640),
    batch_size: int = 1,
    decode_in_inference: bool = True,
    class_names: Optional[Sequence[str]] = None,
    config: Any = None,
) -> str:
    """Trace the model and save it; metadata goes in the archive's ``extra/yolox.json``."""
    path = output_path(path)
    model = _prepare(model, decode_in_inference)
    device = model_device(model)
    dummy = torch.zeros(batch_size, 3, int(test_size[0]), int(test_size[1]), device=device)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, dummy, check_trace=False)
    meta = {
        k[len("yolox.") :]: json.loads(v)
        for k, v in export_metadata(
            model, class_names, test_size, decode_in_inference, config
        ).items()
    }
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", FutureWarning
        )  # torch.jit is deprecated in favour of torch.export
        with atomic_output(path) as temp:  # a killed export leaves the previous file
            torch.jit.save(traced, temp, _extra_files={"yolox.json": json.dumps(meta)})
    logger.info(f"wrote {path} (decode_in_inference={decode_in_inference})")
    return os.fspath(path)

"""Runtimes for exported models: one small interface over ONNX Runtime and OpenVINO.

A runtime opens an exported file, exposes its ``yolox.*`` export metadata (class names,
test size, strides, model config...), its input shape (ints where static, None where
dynamic) and the width of its output rows, and runs a float32 NCHW batch. Everything above
(letterbox, decoding of raw outputs, NMS, evaluator adapter) is shared by
:mod:`yolox.deploy.exported`, whatever the runtime.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple, Union

import numpy as np

from yolox.utils.atomic_files import check_complete
from yolox.utils.errors import UserError

__all__ = [
    "BACKENDS",
    "CompiledOpenVino",
    "Runtime",
    "OnnxRuntime",
    "OpenVinoRuntime",
    "backend_for_path",
    "decode_metadata",
    "input_hw",
    "open_runtime",
    "openvino_capabilities",
    "read_openvino_metadata",
]

#: backend name -> file suffix it reads
BACKENDS = {"onnxruntime": ".onnx", "openvino": ".xml"}

PathLike = Union[str, os.PathLike]

#: OpenVINO's inference precision hint for each precision name of the project
OPENVINO_HINTS = {"fp32": "f32", "bf16": "bf16"}


class Runtime(Protocol):
    """What the predictor needs of a runtime."""

    #: the ``yolox.*`` export metadata, decoded
    metadata: Dict[str, Any]
    #: NCHW input shape: ints where static, None where dynamic
    input_shape: Tuple[Optional[int], ...]
    #: width of the output rows (5 + classes), None when dynamic
    output_width: Optional[int]

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Raw (or in-graph decoded) outputs [B, A, 5 + C] of a float32 NCHW batch."""


def decode_metadata(raw: Mapping[str, str]) -> Dict[str, Any]:
    """``{"yolox.key": json}`` -> ``{"key": value}`` (values that are not JSON stay strings)."""
    out = {}
    for key, value in raw.items():
        if not key.startswith("yolox."):
            continue
        try:
            out[key[len("yolox.") :]] = json.loads(value)
        except json.JSONDecodeError:
            out[key[len("yolox.") :]] = value
    return out


def backend_for_path(path: PathLike) -> str:
    """The backend that reads ``path``, from its suffix (``.onnx`` or OpenVINO ``.xml``)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    for name, ext in BACKENDS.items():
        if suffix == ext:
            return name
    raise ValueError(
        f"{os.fspath(path)}: unknown exported model type {suffix!r} "
        f"(expected {' or '.join(BACKENDS.values())})"
    )


def _require_file(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"exported model {path} not found")
    check_complete(path)
    return path


def _unreadable(path: PathLike, kind: str, exc: BaseException) -> UserError:
    """The one-line error for a file the runtime cannot parse (truncated, corrupt, not a model)."""
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return UserError(
        f"{os.fspath(path)}: not a readable {kind} model ({reason}); a truncated or corrupt "
        "file (an interrupted copy or export?): export it again"
    )


class OnnxRuntime:
    """An ONNX file in an ONNX Runtime session (CPU unless ``providers`` say otherwise)."""

    name = "onnxruntime"

    def __init__(
        self, path: PathLike, providers: Optional[List[str]] = None, threads: Optional[int] = None
    ) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        path = _require_file(path)
        try:
            self.session = onnxruntime.InferenceSession(
                path, options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own types: InvalidProtobuf, Fail, ...
            raise _unreadable(path, "ONNX", exc) from None
        self.metadata = decode_metadata(self.session.get_modelmeta().custom_metadata_map or {})
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = tuple(
            s if isinstance(s, int) else None for s in self.session.get_inputs()[0].shape
        )
        width = self.session.get_outputs()[0].shape[-1]
        self.output_width = width if isinstance(width, int) else None

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]


class OpenVinoRuntime:
    """An OpenVINO IR (``.xml`` + ``.bin``) compiled for the CPU, in float32 unless int8 inside.

    The inference precision hint is pinned to f32: on CPUs with bf16 units OpenVINO would
    otherwise run an fp32 IR in bf16, and results would silently differ from the export.
    bf16 runs only when asked: ``precision="bf16"``, or an IR that ``tools/export_openvino.py
    --bf16`` wrote after checking its AP and speed (metadata ``yolox.inference_precision``).
    A dynamic IR is compiled once per input shape met (static shapes run faster on the CPU
    plugin than the dynamic-shape path); the last few compiled shapes are kept.
    """

    name = "openvino"
    #: compiled input shapes kept (evaluation meets two: the batch size and the last batch)
    MAX_COMPILED_SHAPES = 4

    def __init__(
        self,
        path: PathLike,
        device: str = "CPU",
        threads: Optional[int] = None,
        precision: Optional[str] = None,
    ) -> None:
        import openvino as ov

        self.core = ov.Core()
        path = _require_file(path)
        try:
            self.model = self.core.read_model(path)
        except RuntimeError as exc:  # OpenVINO reports parse errors and a bad .bin so
            raise _unreadable(path, "OpenVINO IR (.xml + .bin)", exc) from None
        self.metadata = read_openvino_metadata(self.model)
        self.device = device
        self.precision = precision or self.metadata.get("inference_precision") or "fp32"
        if self.precision not in OPENVINO_HINTS:
            raise ValueError(
                f"precision must be one of {sorted(OPENVINO_HINTS)}, got {precision!r}"
            )
        self.config: Dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": OPENVINO_HINTS[self.precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = int(threads)
        self.input_shape, self.output_width = _openvino_shapes(self.model)
        self._requests: Dict[Tuple[int, ...], Any] = {}

    def _request(self, shape: Tuple[int, ...]) -> Any:
        if shape not in self._requests:
            if len(self._requests) >= self.MAX_COMPILED_SHAPES:
                self._requests.pop(next(iter(self._requests)))
            model = self.model
            if any(d is None for d in self.input_shape):
                model = self.model.clone()
                model.reshape({0: list(shape)})
            self._requests[shape] = self.core.compile_model(
                model, self.device, self.config
            ).create_infer_request()
        return self._requests[shape]

    def run(self, batch: np.ndarray) -> np.ndarray:
        request = self._request(tuple(batch.shape))
        request.infer({0: batch})
        return np.array(request.get_output_tensor(0).data)


def _openvino_shapes(model: Any) -> Tuple[Tuple[Optional[int], ...], Optional[int]]:
    """(input shape with None where dynamic, output row width or None) of an OpenVINO model,
    compiled or not."""
    dims = model.input(0).get_partial_shape()
    width = model.output(0).get_partial_shape()[-1]
    return (
        tuple(d.get_length() if d.is_static else None for d in dims),
        width.get_length() if width.is_static else None,
    )


class CompiledOpenVino:
    """An OpenVINO model compiled elsewhere (NNCF hands one to its validation function), with
    the metadata of the IR it came from, since compiled models carry none."""

    name = "openvino"

    def __init__(self, compiled: Any, metadata: Dict[str, Any]) -> None:
        self.compiled = compiled
        self.metadata = dict(metadata)
        self.input_shape, self.output_width = _openvino_shapes(compiled)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.array(self.compiled(batch)[self.compiled.output(0)])


def read_openvino_metadata(model: Any) -> Dict[str, Any]:
    """The ``yolox.*`` export metadata stored in an OpenVINO model's rt_info."""
    if not model.has_rt_info(["yolox"]):
        return {}
    raw = {
        f"yolox.{key}": model.get_rt_info(["yolox", key]).astype(str)
        for key in model.get_rt_info(["yolox"]).astype(dict)
    }
    return decode_metadata(raw)


def openvino_capabilities(device: str = "CPU") -> Tuple[str, ...]:
    """What OpenVINO reports ``device`` can compute natively (``FP32``, ``INT8``, ``BF16``...):
    the OpenVINO paths judge the CPU by OpenVINO's own view, which is what its kernels use."""
    import openvino as ov

    return tuple(ov.Core().get_property(device, "OPTIMIZATION_CAPABILITIES"))


def open_runtime(path: PathLike, backend: Optional[str] = None, **kwargs: Any):
    """The runtime for ``path``; ``backend`` defaults to the one its suffix names."""
    backend = backend or backend_for_path(path)
    if backend == "onnxruntime":
        return OnnxRuntime(path, **kwargs)
    if backend == "openvino":
        try:
            import openvino  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                'the openvino backend needs OpenVINO: pip install -e ".[deploy]"'
            ) from exc
        return OpenVinoRuntime(path, **kwargs)
    raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def input_hw(shape: Tuple[Optional[int], ...]) -> Optional[Tuple[int, int]]:
    """(H, W) of a static NCHW input shape, or None when either is dynamic."""
    height, width = shape[2], shape[3]
    return (height, width) if height is not None and width is not None else None

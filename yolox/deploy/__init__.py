"""Deployment of a trained model: export (ONNX, OpenVINO, TorchScript), the runtimes that run
exported files, the Predictor on top of them, int8 (and bf16) candidates kept where they pay,
and the bench of every CPU path. It sits above :mod:`yolox.inference` (whose pre- and
post-processing it shares) and is imported by the tools only.

Optional runtimes (onnx, onnxruntime, openvino, nncf) are imported where they are used, so
``import yolox.deploy`` needs none of them.
"""

from .export import export_onnx, export_torchscript
from .exported import ExportedModel, ExportedPredictor
from .openvino_export import export_openvino
from .runtimes import open_runtime

__all__ = [
    "ExportedModel",
    "ExportedPredictor",
    "export_onnx",
    "export_openvino",
    "export_torchscript",
    "open_runtime",
]

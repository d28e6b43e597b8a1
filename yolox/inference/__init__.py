"""Inference on images and videos, model rebuilding from checkpoints, export and decoding helpers."""

from .decode import decode_outputs, level_shapes, make_grids
from .detections import Detections, detections_from_postprocess
from .export import export_onnx, export_torchscript
from .loading import (
    LoadedModel,
    ModelMismatchError,
    class_names_for,
    compare_model_configs,
    exp_model_config,
    load_model,
    resolve_checkpoint_path,
)
from .onnx_predictor import ExportedModel, ExportedPredictor, OnnxModel, OnnxPredictor
from .predictor import Predictor, letterbox, read_image
from .pretrained import pretrained_weights
from .visualize import class_color, draw_detections

__all__ = [
    "Detections",
    "ExportedModel",
    "ExportedPredictor",
    "LoadedModel",
    "ModelMismatchError",
    "OnnxModel",
    "OnnxPredictor",
    "Predictor",
    "class_color",
    "class_names_for",
    "compare_model_configs",
    "decode_outputs",
    "detections_from_postprocess",
    "draw_detections",
    "exp_model_config",
    "export_onnx",
    "export_torchscript",
    "letterbox",
    "level_shapes",
    "load_model",
    "make_grids",
    "pretrained_weights",
    "read_image",
    "resolve_checkpoint_path",
]

"""Inference on images and videos: the Predictor, model rebuilding from checkpoints, decoding,
the fast path, drawing, attention maps. Exported models are :mod:`yolox.deploy`'s."""

from .decode import decode_outputs, level_shapes, make_grids
from .detections import Detections, detections_from_postprocess
from .loading import (
    LoadedModel,
    ModelMismatchError,
    class_names_for,
    compare_model_configs,
    exp_model_config,
    load_model,
    resolve_checkpoint_path,
)
from .predictor import Predictor, letterbox, read_image
from .pretrained import pretrained_weights
from .visualize import class_color, draw_detections

__all__ = [
    "Detections",
    "LoadedModel",
    "ModelMismatchError",
    "Predictor",
    "class_color",
    "class_names_for",
    "compare_model_configs",
    "decode_outputs",
    "detections_from_postprocess",
    "draw_detections",
    "exp_model_config",
    "letterbox",
    "level_shapes",
    "load_model",
    "make_grids",
    "pretrained_weights",
    "read_image",
    "resolve_checkpoint_path",
]

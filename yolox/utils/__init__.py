"""Utilities that import nothing else of yolox: boxes, checkpoints, device, distributed, logging.

The names official YOLOX users reach for (``from yolox.utils import postprocess``) are here.
"""

from .boxes import (
    adjust_box_anns,
    bboxes_iou,
    cxcywh2xyxy,
    letterbox_ratio,
    postprocess,
    xyxy2cxcywh,
    xyxy2xywh,
)
from .checkpoint import CheckpointError, load_checkpoint, load_model_weights, save_checkpoint
from .detections import Detections, detections_from_postprocess
from .device import model_device, select_device
from .dist import get_local_rank, get_rank, get_world_size, is_main_process, synchronize
from .ema import ModelEMA
from .logger import setup_logger
from .lr_scheduler import LRScheduler
from .metric import AverageMeter, MeterBuffer, gpu_mem_usage
from .model_utils import fuse_conv_and_bn, fuse_model, get_model_info, profile_model

__all__ = [
    "adjust_box_anns",
    "bboxes_iou",
    "cxcywh2xyxy",
    "letterbox_ratio",
    "postprocess",
    "xyxy2cxcywh",
    "xyxy2xywh",
    "CheckpointError",
    "load_checkpoint",
    "load_model_weights",
    "save_checkpoint",
    "Detections",
    "detections_from_postprocess",
    "model_device",
    "select_device",
    "get_local_rank",
    "get_rank",
    "get_world_size",
    "is_main_process",
    "synchronize",
    "ModelEMA",
    "setup_logger",
    "LRScheduler",
    "AverageMeter",
    "MeterBuffer",
    "gpu_mem_usage",
    "fuse_conv_and_bn",
    "fuse_model",
    "get_model_info",
    "profile_model",
]

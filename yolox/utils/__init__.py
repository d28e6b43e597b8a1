"""Utilities that import nothing else of yolox: boxes, checkpoints, device, distributed, logging.

The names official YOLOX users reach for (``from yolox.utils import postprocess``) are here.
"""

from .allreduce_norm import (
    all_reduce,
    all_reduce_norm,
    get_async_norm_states,
    pyobj2tensor,
    tensor2pyobj,
)
from .boxes import (
    adjust_box_anns,
    bboxes_iou,
    cxcywh2xyxy,
    filter_box,
    letterbox_ratio,
    matrix_iou,
    postprocess,
    xyxy2cxcywh,
    xyxy2xywh,
)
from .checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_ckpt,
    load_model_weights,
    save_checkpoint,
)
from .compat import meshgrid
from .demo_utils import (
    demo_postprocess,
    mkdir,
    multiclass_nms,
    nms,
    random_color,
    visualize_assign,
)
from .detections import Detections, detections_from_postprocess
from .device import model_device, select_device
from .dist import (
    all_gather,
    gather,
    get_local_rank,
    get_local_size,
    get_num_devices,
    get_rank,
    get_world_size,
    is_main_process,
    synchronize,
    time_synchronized,
    wait_for_the_master,
)
from .ema import ModelEMA, is_parallel
from .logger import WandbLogger, setup_logger
from .lr_scheduler import LRScheduler
from .metric import (
    AverageMeter,
    MeterBuffer,
    get_total_and_free_memory_in_Mb,
    gpu_mem_usage,
    mem_usage,
    occupy_mem,
)
from .mlflow_logger import MlflowLogger
from .model_utils import (
    adjust_status,
    freeze_module,
    fuse_conv_and_bn,
    fuse_model,
    get_model_info,
    profile_model,
    replace_module,
)
from .setup_env import configure_module, configure_nccl, configure_omp
from .visualize import vis

__all__ = [
    # official YOLOX v0.3.0's package names
    "get_async_norm_states",
    "pyobj2tensor",
    "tensor2pyobj",
    "all_reduce",
    "all_reduce_norm",
    "filter_box",
    "postprocess",
    "bboxes_iou",
    "matrix_iou",
    "adjust_box_anns",
    "xyxy2xywh",
    "xyxy2cxcywh",
    "cxcywh2xyxy",
    "load_ckpt",
    "save_checkpoint",
    "meshgrid",
    "random_color",
    "visualize_assign",
    "mkdir",
    "nms",
    "multiclass_nms",
    "demo_postprocess",
    "get_num_devices",
    "wait_for_the_master",
    "synchronize",
    "get_world_size",
    "get_rank",
    "get_local_rank",
    "get_local_size",
    "is_main_process",
    "all_gather",
    "gather",
    "time_synchronized",
    "is_parallel",
    "ModelEMA",
    "setup_logger",
    "WandbLogger",
    "LRScheduler",
    "get_total_and_free_memory_in_Mb",
    "occupy_mem",
    "gpu_mem_usage",
    "mem_usage",
    "AverageMeter",
    "MeterBuffer",
    "MlflowLogger",
    "get_model_info",
    "fuse_conv_and_bn",
    "fuse_model",
    "replace_module",
    "freeze_module",
    "adjust_status",
    "configure_nccl",
    "configure_omp",
    "configure_module",
    "vis",
    # this project's additions
    "letterbox_ratio",
    "CheckpointError",
    "load_checkpoint",
    "load_model_weights",
    "Detections",
    "detections_from_postprocess",
    "model_device",
    "select_device",
    "profile_model",
]

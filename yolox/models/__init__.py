"""YOLOX models: blocks, backbones, necks, head, attention plug-ins and the model builder."""

from .attention import available_attention, build_attention
from .build import (
    MODEL_ZOO,
    ModelConfig,
    build_model,
    create_yolox_model,
    init_yolox_,
    yolov3,
    yolox_custom,
    yolox_l,
    yolox_m,
    yolox_nano,
    yolox_s,
    yolox_tiny,
    yolox_x,
    zoo_config,
)
from .darknet import CSPDarknet, Darknet
from .losses import IOUloss
from .network_blocks import (
    BaseConv,
    Bottleneck,
    CSPLayer,
    DWConv,
    Focus,
    ResLayer,
    SPPBottleneck,
    get_activation,
)
from .yolo_fpn import YOLOFPN
from .yolo_head import YOLOXHead
from .yolo_pafpn import YOLOPAFPN
from .yolox import YOLOX

__all__ = [
    "available_attention",
    "build_attention",
    "MODEL_ZOO",
    "ModelConfig",
    "build_model",
    "init_yolox_",
    "zoo_config",
    "create_yolox_model",
    "yolox_nano",
    "yolox_tiny",
    "yolox_s",
    "yolox_m",
    "yolox_l",
    "yolox_x",
    "yolov3",
    "yolox_custom",
    "CSPDarknet",
    "Darknet",
    "IOUloss",
    "BaseConv",
    "Bottleneck",
    "CSPLayer",
    "DWConv",
    "Focus",
    "ResLayer",
    "SPPBottleneck",
    "get_activation",
    "YOLOFPN",
    "YOLOXHead",
    "YOLOPAFPN",
    "YOLOX",
]

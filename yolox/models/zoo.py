"""Build a YOLOX model from a plain configuration (what checkpoints store), and the model zoo.

Keeping construction here, below the Exp layer, lets eval/demo/export rebuild a model from a
checkpoint alone, and lets every Exp share one code path for the official initialisation.
The official hub builders (``create_yolox_model``, ``yolox_s`` ...) live in :mod:`.build`, which
also loads the official weights (:mod:`.pretrained`); checking those weights builds models here,
so this module imports neither.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from torch import nn

from yolox.utils.errors import UserError

from .neck_attention import resolve_attention_plan
from .yolo_fpn import YOLOFPN
from .yolo_head import YOLOXHead
from .yolo_pafpn import YOLOPAFPN
from .yolox import YOLOX

__all__ = [
    "ARCH_FIELDS",
    "ModelConfig",
    "MODEL_ZOO",
    "build_model",
    "describe_model",
    "init_yolox_",
    "model_config_differences",
    "zoo_config",
]

BN_EPS = 1e-3
BN_MOMENTUM = 0.03
PRIOR_PROB = 0.01


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture (and name its classes)."""

    name: str = "yolox-s"
    neck: str = "pafpn"  # "pafpn" (YOLOX) or "yolofpn" (YOLOv3 baseline)
    depth: float = 0.33
    width: float = 0.50
    depthwise: bool = False
    act: str = "silu"
    num_classes: int = 80
    class_names: Optional[Tuple[str, ...]] = None
    attention: Any = None
    in_channels: Tuple[int, ...] = (256, 512, 1024)
    darknet_depth: int = 53

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["in_channels"] = list(self.in_channels)
        data["class_names"] = list(self.class_names) if self.class_names is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown model_config keys {unknown}; known: {sorted(known)}")
        values = dict(data)
        if values.get("in_channels") is not None:
            values["in_channels"] = tuple(values["in_channels"])
        if values.get("class_names") is not None:
            values["class_names"] = tuple(values["class_names"])
        return cls(**values)


#: fields that change the network (or what its outputs mean); class_names only name them
ARCH_FIELDS = tuple(f.name for f in fields(ModelConfig) if f.name not in ("name", "class_names"))


def _attention_plan(attention: Any) -> Any:
    """Canonical per-position form of an ``attention`` field, so ``"cam"`` == ``{"type": "CA"}``."""
    try:
        return resolve_attention_plan(attention, YOLOPAFPN.POSITIONS)
    except (ValueError, TypeError):
        return attention


def _same(name: str, a: Any, b: Any) -> bool:
    if name == "attention":
        return _attention_plan(a) == _attention_plan(b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b


ConfigLike = Union[ModelConfig, Mapping[str, Any]]


def model_config_differences(
    first: ConfigLike, second: ConfigLike, names: Optional[Tuple[str, ...]] = None
) -> List[Tuple[str, Any, Any]]:
    """``(field, first value, second value)`` for each field of ``names`` (default: every field
    but ``name``) that differs; attention specs are compared in canonical form. Plain dicts
    (what checkpoints hold, possibly of custom models) work too; a missing key is None."""
    a = first.to_dict() if isinstance(first, ModelConfig) else dict(first)
    b = second.to_dict() if isinstance(second, ModelConfig) else dict(second)
    keys = names or tuple(sorted((set(a) | set(b)) - {"name"}))
    return [(k, a.get(k), b.get(k)) for k in keys if not _same(k, a.get(k), b.get(k))]


# Official depth/width multipliers (yolox-nano and yolox-tiny from the exps of YOLOX v0.3.0).
MODEL_ZOO: Dict[str, Dict[str, Any]] = {
    "yolox-nano": dict(depth=0.33, width=0.25, depthwise=True),
    "yolox-tiny": dict(depth=0.33, width=0.375),
    "yolox-s": dict(depth=0.33, width=0.50),
    "yolox-m": dict(depth=0.67, width=0.75),
    "yolox-l": dict(depth=1.0, width=1.0),
    "yolox-x": dict(depth=1.33, width=1.25),
    "yolov3": dict(depth=1.0, width=1.0, neck="yolofpn", act="lrelu", in_channels=(128, 256, 512)),
}


def zoo_config(name: str, **overrides: Any) -> ModelConfig:
    """The official configuration of a zoo model (``yolox-s``, ``yolox_s`` and ``YOLOX-S`` all work)."""
    key = name.lower().replace("_", "-")
    if key not in MODEL_ZOO:
        raise UserError(f"unknown model {name!r}; choose one of {sorted(MODEL_ZOO)}")
    return ModelConfig(name=key, **{**MODEL_ZOO[key], **overrides})


def init_yolox_(model: nn.Module, prior_prob: float = PRIOR_PROB) -> nn.Module:
    """The official initialisation: BN eps 1e-3 / momentum 0.03, cls/obj biases at the prior."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eps = BN_EPS
            module.momentum = BN_MOMENTUM
    head = getattr(model, "head", None)
    if head is not None and hasattr(head, "initialize_biases") and not math.isnan(prior_prob):
        head.initialize_biases(prior_prob)
    return model


def build_model(config: ModelConfig) -> YOLOX:
    """Construct and initialise a YOLOX model (in train mode, as official Exps return it)."""
    if config.neck == "pafpn":
        backbone = YOLOPAFPN(
            config.depth,
            config.width,
            in_channels=config.in_channels,
            depthwise=config.depthwise,
            act=config.act,
            attention=config.attention,
        )
        head = YOLOXHead(
            config.num_classes,
            config.width,
            in_channels=config.in_channels,
            act=config.act,
            depthwise=config.depthwise,
        )
    elif config.neck == "yolofpn":
        backbone = YOLOFPN(depth=config.darknet_depth, attention=config.attention)
        head = YOLOXHead(
            config.num_classes, config.width, in_channels=config.in_channels, act=config.act
        )
    else:
        raise UserError(f"unknown neck {config.neck!r}; choose 'pafpn' or 'yolofpn'")
    if config.class_names is not None and len(config.class_names) != config.num_classes:
        raise UserError(
            f"{len(config.class_names)} class names given for num_classes={config.num_classes}"
        )
    model = YOLOX(backbone, head)
    init_yolox_(model)
    model.train()
    return model


def describe_model(model: nn.Module, config: ModelConfig) -> ModelConfig:
    """``config`` with its architecture fields read from ``model`` as it was actually built.

    Official-style exps build the network in their own ``get_model`` (yolox_nano passes
    ``depthwise=True``, yolov3 builds ``YOLOFPN`` with a lrelu head) without setting the exp's
    fields, so ``exp.model_config()`` alone would describe another network. Checkpoints store
    this description so eval/demo/export rebuild what was trained. Models with other necks or
    heads keep ``config`` as it is.
    """
    neck, head = getattr(model, "backbone", None), getattr(model, "head", None)
    if not isinstance(head, YOLOXHead):
        return config
    found: Dict[str, Any] = dict(
        num_classes=head.num_classes,
        width=head.width,
        in_channels=head.in_channels,
        act=head.act,
        depthwise=head.depthwise,
    )
    if isinstance(neck, YOLOPAFPN):
        found.update(neck="pafpn", depth=neck.depth)
    elif isinstance(neck, YOLOFPN):
        found.update(neck="yolofpn", darknet_depth=neck.depth)
    else:
        return config
    return replace(config, **found)

"""The official hub builders: ``create_yolox_model``, ``yolox_s`` ... as official YOLOX names them
(``torch.hub.load`` entries, ``yolox.models.build`` imports). The configurations and the builder
they use are in :mod:`.zoo` (re-exported here, where official users and earlier code import them).
"""

from __future__ import annotations

from typing import Optional, Union

import torch
from loguru import logger
from torch import nn

from yolox.utils.errors import UserError

from . import zoo
from .pretrained import pretrained_weights
from .zoo import *  # noqa: F403 (re-exported: official code and ours import these from here)
from .zoo import MODEL_ZOO, build_model, zoo_config

__all__ = [
    *zoo.__all__,
    "create_yolox_model",
    "yolox_nano",
    "yolox_tiny",
    "yolox_s",
    "yolox_m",
    "yolox_l",
    "yolox_x",
    "yolov3",
    "yolox_custom",
]


def _default_device(device: Union[None, str, torch.device]) -> torch.device:
    """Official default (None): the GPU when there is one, else the CPU; the project's one
    device rule (:func:`yolox.utils.device.select_device`)."""
    from yolox.utils.device import select_device

    return select_device(device)


def _load_strict(model: nn.Module, ckpt_path: str) -> None:
    from yolox.utils.checkpoint import extract_state_dict, load_checkpoint

    state = extract_state_dict(load_checkpoint(ckpt_path))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{ckpt_path} does not fit the model: {first}") from exc


def create_yolox_model(
    name: str,
    pretrained: bool = True,
    num_classes: int = 80,
    device: Union[None, str, torch.device] = None,
    exp_path: Optional[str] = None,
    ckpt_path: Optional[str] = None,
) -> nn.Module:
    """A zoo model by official name (``yolox-s``, ..., ``yolov3``), or the model of an exp file.

    Zoo models get the official COCO weights when ``pretrained`` and ``num_classes`` is 80,
    through the weights cache (yolox.models.pretrained, ``$YOLOX_HOME``); with another class
    count they stay randomly initialised, as in official (a warning says so). Other names need
    ``exp_path``; ``ckpt_path`` then loads weights (strictly). The model is in train mode, as
    official returns it.
    """
    key = str(name).lower().replace("_", "-")
    target = _default_device(device)
    if key in MODEL_ZOO:
        model = build_model(zoo_config(key, num_classes=num_classes))
        if pretrained and num_classes == 80:
            _load_strict(model, str(pretrained_weights(key)))
        elif pretrained:
            logger.warning(
                f"{key}: no pretrained weights for num_classes={num_classes} (official weights "
                "have 80 classes); the model is randomly initialised"
            )
    else:
        if exp_path is None:
            raise UserError(
                f"unknown model {name!r}: choose one of {sorted(MODEL_ZOO)} or give exp_path"
            )
        from yolox.utils.pyfile import import_file

        model = import_file(exp_path).Exp().get_model()
        if ckpt_path:
            _load_strict(model, ckpt_path)
    return model.to(target)


def yolox_nano(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-nano", pretrained, num_classes, device)


def yolox_tiny(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-tiny", pretrained, num_classes, device)


def yolox_s(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-s", pretrained, num_classes, device)


def yolox_m(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-m", pretrained, num_classes, device)


def yolox_l(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-l", pretrained, num_classes, device)


def yolox_x(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolox-x", pretrained, num_classes, device)


def yolov3(
    pretrained: bool = True, num_classes: int = 80, device: Optional[str] = None
) -> nn.Module:
    return create_yolox_model("yolov3", pretrained, num_classes, device)


def yolox_custom(
    ckpt_path: Optional[str] = None,
    exp_path: Optional[str] = None,
    device: Optional[str] = None,
) -> nn.Module:
    """The model of the exp file ``exp_path``, with the weights of ``ckpt_path`` when given."""
    return create_yolox_model("yolox_custom", ckpt_path=ckpt_path, exp_path=exp_path, device=device)

"""Official YOLOX's forgiving weight loading (``load_ckpt``), for code that calls it by name."""

from __future__ import annotations

from typing import Mapping

import torch
from loguru import logger
from torch import nn

__all__ = ["load_ckpt"]


def load_ckpt(model: nn.Module, ckpt: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load the tensors of ``ckpt`` (a state dict) whose name and shape match ``model``.

    Every model tensor missing from ``ckpt`` or of another shape stays as it is and is named in
    a warning (official behaviour: fine-tuning on another class count keeps the rest).
    """
    own = model.state_dict()
    usable = {}
    for name, value in own.items():
        if name not in ckpt:
            logger.warning(
                f"{name} is not in the ckpt. Please double check and see if this is desired."
            )
            continue
        if tuple(ckpt[name].shape) != tuple(value.shape):
            logger.warning(
                f"Shape of {name} in checkpoint is {tuple(ckpt[name].shape)}, "
                f"while shape of {name} in model is {tuple(value.shape)}."
            )
            continue
        usable[name] = ckpt[name]
    model.load_state_dict(usable, strict=False)
    return model

"""Exponential moving average of model weights (YOLOX style, with a warm-up ramp on the decay)."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

__all__ = ["ModelEMA", "is_parallel", "unwrap_model"]


def is_parallel(model: nn.Module) -> bool:
    """True for DataParallel / DistributedDataParallel wrappers."""
    return isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel))


def unwrap_model(model: nn.Module) -> nn.Module:
    """The bare module inside a (D)DP wrapper, so state-dict keys keep the official layout."""
    return model.module if is_parallel(model) else model


class ModelEMA:
    """Shadow copy of a model updated as ``ema = d * ema + (1 - d) * model``.

    ``d = decay * (1 - exp(-updates / 2000))`` is small at the start so the average follows the
    fast-moving early weights, and tends to ``decay`` later. Floating-point parameters *and*
    buffers (BN running stats) are averaged; integer buffers are copied.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, updates: int = 0):
        self.ema = copy.deepcopy(unwrap_model(model)).eval()
        self.ema.requires_grad_(False)
        self.updates = updates
        self.decay_max = decay

    def decay(self, updates: int) -> float:
        """Decay used for the ``updates``-th update."""
        return self.decay_max * (1.0 - math.exp(-updates / 2000.0))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights of ``model`` into the average."""
        self.updates += 1
        d = self.decay(self.updates)
        current = unwrap_model(model).state_dict()
        for name, value in self.ema.state_dict().items():
            src = current[name].detach()
            if value.dtype.is_floating_point:
                value.mul_(d).add_(src.to(value.dtype), alpha=1.0 - d)
            else:
                value.copy_(src)

    def state_dict(self) -> dict:
        """Weights and update counter, for checkpoints."""
        return {"model": self.ema.state_dict(), "updates": int(self.updates)}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` produced."""
        self.ema.load_state_dict(state["model"])
        self.updates = int(state["updates"])

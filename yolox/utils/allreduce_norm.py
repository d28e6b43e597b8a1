"""Average BatchNorm running statistics over processes before evaluation or saving.

Under DDP each process keeps its own running mean/var; averaging them gives the evaluation
model statistics from the whole global batch instead of from rank 0's shard only.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["get_async_norm_states", "all_reduce_norm", "ASYNC_NORM"]

ASYNC_NORM: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)


def get_async_norm_states(module: nn.Module) -> OrderedDict[str, torch.Tensor]:
    """Running statistics of every non-synchronised norm layer, keyed by state-dict name."""
    states: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, child in module.named_modules():
        if isinstance(child, ASYNC_NORM):
            for key, value in child.state_dict().items():
                if value.dtype.is_floating_point:
                    states[f"{name}.{key}" if name else key] = value
    return states


@torch.no_grad()
def all_reduce_norm(module: nn.Module) -> None:
    """Replace the running statistics by their mean over all processes (no-op when single)."""
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return
    states = get_async_norm_states(module)
    if not states:
        return
    flat = torch.cat([v.reshape(-1).float() for v in states.values()])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= dist.get_world_size()
    offset = 0
    for value in states.values():
        n = value.numel()
        value.copy_(flat[offset : offset + n].view_as(value).to(value.dtype))
        offset += n

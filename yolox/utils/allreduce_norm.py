"""Average BatchNorm running statistics over processes before evaluation or saving.

Under DDP each process keeps its own running mean/var; averaging them gives the evaluation
model statistics from the whole global batch instead of from rank 0's shard only.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from typing import Any, Mapping, Optional, Union

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "get_async_norm_states",
    "pyobj2tensor",
    "tensor2pyobj",
    "all_reduce",
    "all_reduce_norm",
    "ASYNC_NORM",
]

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


def pyobj2tensor(pyobj: Any, device: Union[str, torch.device] = "cuda") -> torch.Tensor:
    """Pickle ``pyobj`` into a uint8 tensor on ``device`` (so it can travel through a collective).

    Official's default device is CUDA; on a machine without CUDA the tensor stays on the CPU.
    """
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")
    data = bytearray(pickle.dumps(pyobj))
    return torch.frombuffer(data, dtype=torch.uint8).to(device)


def tensor2pyobj(tensor: torch.Tensor) -> Any:
    """The inverse of :func:`pyobj2tensor`."""
    return pickle.loads(tensor.detach().cpu().numpy().tobytes())


_REDUCE_OPS = {"sum": "SUM", "mean": "SUM"}


def all_reduce(
    py_dict: Mapping[str, torch.Tensor], op: str = "sum", group: Optional[Any] = None
) -> OrderedDict[str, torch.Tensor]:
    """Sum (or mean) each tensor of ``py_dict`` over all processes, in one flat collective.

    Every rank must hold the same keys; rank 0's key order is used. With a single process the
    dict comes back unchanged (official behaviour).
    """
    if op not in _REDUCE_OPS:
        raise ValueError(f"op must be one of {sorted(_REDUCE_OPS)}, got {op!r}")
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return py_dict  # type: ignore[return-value]
    world_size = dist.get_world_size(group)
    device = torch.device("cpu")
    if dist.get_backend(group) == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    keys = [list(py_dict.keys())]
    dist.broadcast_object_list(keys, src=0, group=group)
    names = keys[0]
    shapes = [py_dict[k].shape for k in names]
    sizes = [py_dict[k].numel() for k in names]
    flat = torch.cat([py_dict[k].reshape(-1).to(device, torch.float64) for k in names])
    dist.all_reduce(flat, op=getattr(dist.ReduceOp, _REDUCE_OPS[op]), group=group)
    if op == "mean":
        flat /= world_size
    parts = torch.split(flat, sizes)
    return OrderedDict(
        (k, p.reshape(s).to(py_dict[k].device, py_dict[k].dtype))
        for k, p, s in zip(names, parts, shapes)
    )

"""Distributed helpers that degrade to single-process no-ops.

Every function here works whether or not ``torch.distributed`` is available and initialised, so
training and evaluation code can call them unconditionally. Python objects (detection lists,
summaries) travel over a CPU ("gloo") group even when the default backend is NCCL, so that large
pickles never have to be staged on the GPU.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

import numpy as np
import torch
import torch.distributed as dist

__all__ = [
    "is_dist_avail_and_initialized",
    "get_world_size",
    "get_rank",
    "get_local_rank",
    "is_main_process",
    "synchronize",
    "all_gather_object",
    "gather",
    "broadcast_object",
    "all_reduce",
    "reduce_dict",
    "wait_for_the_master",
    "time_synchronized",
    "get_num_devices",
    "get_local_size",
    "all_gather",
    "shared_random_seed",
]


def is_dist_avail_and_initialized() -> bool:
    """True only inside an initialised process group (False on builds without distributed)."""
    return dist.is_available() and dist.is_initialized()


def get_world_size() -> int:
    """Number of processes in the default group (1 when not distributed)."""
    return dist.get_world_size() if is_dist_avail_and_initialized() else 1


def get_rank() -> int:
    """Global rank of this process (0 when not distributed)."""
    return dist.get_rank() if is_dist_avail_and_initialized() else 0


def get_local_rank() -> int:
    """Rank within this machine, from the launcher's LOCAL_RANK (0 when not distributed)."""
    if not is_dist_avail_and_initialized():
        return 0
    return int(os.environ.get("LOCAL_RANK", get_rank()))


def is_main_process() -> bool:
    """Whether this process should log, write files and run the final scoring."""
    return get_rank() == 0


def synchronize() -> None:
    """Barrier across all processes; a no-op with a single process."""
    if get_world_size() > 1:
        dist.barrier()


_OBJECT_GROUPS: Dict[int, Any] = {}


def _object_group() -> Optional[Any]:
    """A gloo group for pickled objects when the default backend is not gloo (None = default).

    Created once per default group (every rank reaches it through the same collective call).
    """
    if dist.get_backend() == "gloo":
        return None
    key = id(dist.group.WORLD)
    if key not in _OBJECT_GROUPS:
        _OBJECT_GROUPS.clear()
        _OBJECT_GROUPS[key] = dist.new_group(backend="gloo")
    return _OBJECT_GROUPS[key]


def all_gather_object(obj: Any) -> List[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` when not distributed)."""
    world_size = get_world_size()
    if world_size == 1:
        return [obj]
    out: List[Any] = [None] * world_size
    dist.all_gather_object(out, obj, group=_object_group())
    return out


def gather(data: Any, dst: int = 0, group: Optional[Any] = None) -> List[Any]:
    """Every rank's ``data`` in rank order on rank ``dst``; an empty list on the other ranks.

    ``group`` (official's argument): the process group; default a CPU group for objects.
    """
    world_size = get_world_size()
    if world_size == 1:
        return [data]
    group = group if group is not None else _object_group()
    out: Optional[List[Any]] = [None] * world_size if get_rank() == dst else None
    dist.gather_object(data, out, dst=dst, group=group)
    return out if out is not None else []


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (so all ranks agree on, e.g., an evaluation result)."""
    if get_world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src, group=_object_group())
    return box[0]


def _reduce_device() -> torch.device:
    """Device on which the default backend can reduce tensors (CUDA for NCCL, else CPU)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce(
    value: Union[float, int, torch.Tensor], op: str = "mean"
) -> Union[float, torch.Tensor]:
    """Sum or mean of a scalar or tensor over all ranks.

    Python numbers come back as a float; tensors come back as a new tensor on their own device.
    """
    if op not in ("sum", "mean"):
        raise ValueError(f"op must be 'sum' or 'mean', got {op!r}")
    is_tensor = isinstance(value, torch.Tensor)
    world_size = get_world_size()
    if world_size == 1:
        if is_tensor:
            return value.detach().clone()
        return float(value)
    if is_tensor:
        tensor = value.detach().to(_reduce_device(), dtype=torch.float64, copy=True)
    else:
        tensor = torch.tensor(float(value), dtype=torch.float64, device=_reduce_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    if op == "mean":
        tensor /= world_size
    if is_tensor:
        return tensor.to(device=value.device, dtype=value.dtype)
    return float(tensor.item())


def reduce_dict(
    values: Mapping[str, Union[float, int, torch.Tensor]], average: bool = True
) -> Dict[str, Any]:
    """All-reduce a dict of scalars (e.g. losses) in one collective; keys are ordered by name.

    Every rank must pass the same keys. Scalar tensors stay tensors, numbers become floats.
    """
    keys = sorted(values.keys())
    if get_world_size() == 1 or not keys:
        return {
            k: values[k].detach().clone()
            if isinstance(values[k], torch.Tensor)
            else float(values[k])
            for k in keys
        }
    device = _reduce_device()
    stacked = torch.stack(
        [
            torch.as_tensor(values[k], dtype=torch.float64).detach().to(device).reshape(())
            for k in keys
        ]
    )
    dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
    if average:
        stacked /= get_world_size()
    out: Dict[str, Any] = {}
    for i, k in enumerate(keys):
        original = values[k]
        if isinstance(original, torch.Tensor):
            out[k] = stacked[i].to(device=original.device, dtype=original.dtype)
        else:
            out[k] = float(stacked[i].item())
    return out


@contextlib.contextmanager
def wait_for_the_master(local_rank: Optional[int] = None) -> Iterator[None]:
    """Let local rank 0 run the block first (e.g. to build a cache) while the others wait."""
    if local_rank is None:
        local_rank = get_local_rank()
    if local_rank > 0:
        synchronize()
    yield
    if local_rank == 0 and get_world_size() > 1:
        synchronize()


def time_synchronized(device: Optional[torch.device] = None) -> float:
    """Wall-clock time after pending CUDA work (on ``device``, if it is CUDA) has finished."""
    if device is not None and torch.device(device).type == "cuda" and torch.cuda.is_available():
        torch.cuda.synchronize(device)
    return time.perf_counter()


def all_gather(data: Any, group: Optional[Any] = None) -> List[Any]:
    """Official's name for :func:`all_gather_object` (``group``: a process group to use instead)."""
    if group is None or get_world_size() == 1:
        return all_gather_object(data)
    out: List[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(out, data, group=group)
    return out


def get_num_devices() -> int:
    """GPUs this process may use: the entries of CUDA_VISIBLE_DEVICES, else torch's count (0 on CPU)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip()])
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def get_local_size() -> int:
    """Processes on this machine: the launcher's LOCAL_WORLD_SIZE (1 when not distributed)."""
    if not is_dist_avail_and_initialized():
        return 1
    return int(os.environ.get("LOCAL_WORLD_SIZE", get_world_size()))


def shared_random_seed() -> int:
    """A random int in [0, 2**31) drawn on rank 0 and the same on every rank."""
    return int(all_gather(int(np.random.randint(2**31)))[0])

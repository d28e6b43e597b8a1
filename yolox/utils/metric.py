"""Running statistics for training logs (median / average / latest) and memory probes."""

from __future__ import annotations

import functools
import sys
from collections import defaultdict, deque
from typing import Any, Optional, Tuple, Union

import numpy as np
import torch

__all__ = [
    "AverageMeter",
    "MeterBuffer",
    "format_ap",
    "get_total_and_free_memory_in_Mb",
    "gpu_mem_usage",
    "mem_usage",
    "occupy_mem",
]


def format_ap(ap50_95: float, ap50: Optional[float] = None) -> str:
    """The one way AP is shown to people: per cent (AP points, 0-100), as official YOLOX's
    "best AP" line and the ablation tables do; evaluators return fractions (0-1)."""
    text = f"AP50:95 {100.0 * ap50_95:.2f}"
    if ap50 is not None:
        text += f", AP50 {100.0 * ap50:.2f}"
    return f"{text} (%)"


def gpu_mem_usage() -> float:
    """Peak memory allocated by torch on the current CUDA device, in MiB (0 without CUDA)."""
    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return 0.0
    return torch.cuda.max_memory_allocated() / (1024 * 1024)


def mem_usage() -> float:
    """Peak resident memory of this process in GiB (0 where ``resource`` is missing: Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return peak * scale / 1024**3


def get_total_and_free_memory_in_Mb(cuda_device: Union[int, str, torch.device]) -> Tuple[int, int]:
    """(total, used) MiB of a CUDA device; official's name, whose second value is the used memory.

    ``cuda_device`` is an index into the visible devices. Without CUDA there is no such device:
    a RuntimeError says so (official would fail inside nvidia-smi).
    """
    if not torch.cuda.is_available():
        raise RuntimeError(f"no CUDA device {cuda_device!r}: torch sees no GPU on this machine")
    device = (
        torch.device("cuda", int(cuda_device))
        if isinstance(cuda_device, (int, str))
        else cuda_device
    )
    free, total = torch.cuda.mem_get_info(device)
    return total // 2**20, (total - free) // 2**20


def occupy_mem(cuda_device: Union[int, str, torch.device], mem_ratio: float = 0.9) -> None:
    """Reserve ``mem_ratio`` of a CUDA device's memory in torch's cache (``--occupy``); no-op on CPU."""
    device = torch.device(cuda_device) if not isinstance(cuda_device, int) else None
    if device is None:
        device = (
            torch.device("cuda", cuda_device) if torch.cuda.is_available() else torch.device("cpu")
        )
    if device.type != "cuda":
        return
    total, used = get_total_and_free_memory_in_Mb(device)
    block_mb = int(total * mem_ratio) - used
    if block_mb > 0:
        block = torch.empty(block_mb * 2**18, dtype=torch.float32, device=device)
        del block  # memory stays in the caching allocator


class AverageMeter:
    """Window of recent values with global totals."""

    def __init__(self, window_size: int = 50):
        self._deque: deque[float] = deque(maxlen=window_size)
        self._total = 0.0
        self._count = 0

    def update(self, value: float) -> None:
        self._deque.append(value)
        self._count += 1
        self._total += value

    @property
    def median(self) -> float | None:
        return float(np.median(list(self._deque))) if self._deque else None

    @property
    def avg(self) -> float | None:
        """Mean over the window."""
        return float(np.mean(list(self._deque))) if self._deque else None

    @property
    def global_avg(self) -> float:
        return self._total / max(self._count, 1)

    @property
    def latest(self) -> float | None:
        return self._deque[-1] if self._deque else None

    @property
    def total(self) -> float:
        return self._total

    def reset(self) -> None:
        self._deque.clear()
        self._total = 0.0
        self._count = 0

    def clear(self) -> None:
        """Forget the window but keep global totals."""
        self._deque.clear()


class MeterBuffer(defaultdict):
    """``name -> AverageMeter``; tensors are converted with ``.item()`` on update."""

    def __init__(self, window_size: int = 20):
        super().__init__(functools.partial(AverageMeter, window_size=window_size))

    def update(self, values: dict[str, Any] | None = None, **kwargs: Any) -> None:
        values = dict(values or {}, **kwargs)
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                value = value.detach().float().item()
            self[key].update(float(value))

    def get_filtered_meter(self, filter_key: str = "time") -> dict[str, AverageMeter]:
        return {k: v for k, v in self.items() if filter_key in k}

    def reset(self) -> None:
        for meter in self.values():
            meter.reset()

    def clear_meters(self) -> None:
        for meter in self.values():
            meter.clear()

"""Process-level settings: threads, NCCL/OMP variables, open-file limit, seeds and RNG states."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

__all__ = [
    "configure_nccl",
    "configure_omp",
    "configure_module",
    "seed_everything",
    "get_rng_state",
    "set_rng_state",
]


def configure_nccl() -> None:
    """NCCL defaults that avoid slow or hanging collectives on common clusters."""
    os.environ.setdefault("NCCL_LAUNCH_MODE", "PARALLEL")
    os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")


def configure_omp(num_threads: int = 1) -> None:
    """Limit OpenMP threads per process unless the user chose a value (one process per device)."""
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(num_threads)


def configure_module(ulimit_value: int = 8192) -> None:
    """Raise the open-file limit (data workers share tensors through file descriptors)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = min(max(soft, ulimit_value), hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):
        pass  # not supported on this platform; defaults are fine
    os.environ.setdefault("OPENCV_OPENCL_RUNTIME", "disabled")
    try:
        import cv2

        cv2.setNumThreads(0)
        cv2.ocl.setUseOpenCL(False)
    except ImportError:
        pass


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """RNG states as tensors / plain types only, so ``torch.load(weights_only=True)`` reads them."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "name": str(np_state[0]),
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _as_tuple(value: Any) -> Any:
    """Lists back to tuples (random.setstate needs the exact nested tuple structure)."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuple(v) for v in value)
    return value


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    if "python" in state:
        random.setstate(_as_tuple(state["python"]))
    if "numpy" in state:
        s = state["numpy"]
        keys = s["keys"].cpu().numpy().astype(np.uint32)
        np.random.set_state((s["name"], keys, s["pos"], s["has_gauss"], s["cached_gaussian"]))
    if "torch" in state:
        torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = [s.cpu() for s in state["cuda"]]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)

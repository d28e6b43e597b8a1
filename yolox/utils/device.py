"""Choose the compute device once, so nothing else in the code base names CUDA directly."""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import nn

from .errors import UserError

__all__ = [
    "check_device_name",
    "select_device",
    "device_type",
    "model_device",
    "synchronize_device",
]

#: what ``--device`` and every ``device=`` argument accept (one rule for every tool)
DEVICE_CHOICES = "auto (CUDA when available, else CPU), cpu, cuda (or gpu) or cuda:N"


def check_device_name(name: str) -> str:
    """``name`` when it names a device (``auto``, ``gpu`` or anything ``torch.device`` parses),
    else a :class:`UserError`; whether CUDA is present is decided later, by :func:`select_device`.
    """
    choice = name.lower()
    if choice in ("auto", "gpu"):
        return name
    try:
        torch.device(choice)
    except RuntimeError:
        raise UserError(f"{name!r} is not a device: use {DEVICE_CHOICES}") from None
    return name


def select_device(name: Optional[Union[str, torch.device]] = None) -> torch.device:
    """``None``/``"auto"``: CUDA when available, else CPU; ``"gpu"`` is accepted for ``"cuda"``.

    Asking for CUDA on a machine without it is an error, not a silent fallback.
    """
    if isinstance(name, torch.device):
        return name
    choice = check_device_name(name or "auto").lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device("cuda" if choice == "gpu" else choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"device {name!r} requested but CUDA is not available on this machine; use --device cpu"
        )
    return device


def device_type(device: Union[str, torch.device]) -> str:
    """'cuda' or 'cpu' (what torch.autocast and GradScaler want)."""
    return torch.device(device).type


def synchronize_device(device: Union[str, torch.device]) -> None:
    """Wait for queued kernels (for honest timings); a no-op on CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); CPU for a parameterless model."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")

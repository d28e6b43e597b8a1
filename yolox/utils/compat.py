"""Small shims over torch API differences that official YOLOX code imports by name."""

from __future__ import annotations

from typing import Tuple

import torch

__all__ = ["meshgrid"]


def meshgrid(*tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """``torch.meshgrid`` in 'ij' (matrix) order, without the warning about a missing ``indexing``."""
    return torch.meshgrid(*tensors, indexing="ij")

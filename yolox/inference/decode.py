"""NumPy decoding of raw head outputs (ONNX exported without ``--decode_in_inference``).

The raw head output per anchor is ``(dx, dy, log w, log h, obj, cls...)`` with obj/cls already
sigmoid-ed. Anchors are ordered level by level (strides 8, 16, 32), row-major inside a level
(x varies fastest), exactly as :class:`yolox.models.YOLOXHead` flattens them.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

__all__ = ["level_shapes", "make_grids", "decode_outputs"]


def level_shapes(img_size: Sequence[int], strides: Sequence[int] = (8, 16, 32)) -> list:
    """(h, w) of each level's feature map for an input of ``img_size`` = (H, W)."""
    height, width = int(img_size[0]), int(img_size[1])
    return [(height // s, width // s) for s in strides]


def make_grids(
    img_size: Sequence[int], strides: Sequence[int] = (8, 16, 32)
) -> Tuple[np.ndarray, np.ndarray]:
    """Cell offsets [A, 2] (x, y) and per-anchor strides [A, 1] over all levels."""
    grids, expanded = [], []
    for (h, w), stride in zip(level_shapes(img_size, strides), strides):
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        grid = np.stack((xs, ys), axis=-1).reshape(-1, 2)
        grids.append(grid)
        expanded.append(np.full((grid.shape[0], 1), stride))
    return np.concatenate(grids, 0).astype(np.float32), np.concatenate(expanded, 0).astype(
        np.float32
    )


def decode_outputs(
    outputs: np.ndarray, img_size: Sequence[int], strides: Sequence[int] = (8, 16, 32)
) -> np.ndarray:
    """Raw [B, A, 5 + C] (or [A, 5 + C]) -> (cx, cy, w, h, obj, cls...) in input pixels.

    ``img_size`` is the (H, W) the network saw. Returns a new float32 array of the same shape.
    """
    raw = np.asarray(outputs, dtype=np.float32)
    grids, stride = make_grids(img_size, strides)
    if raw.shape[-2] != grids.shape[0]:
        raise ValueError(
            f"outputs hold {raw.shape[-2]} anchors but an input of {tuple(img_size)} with strides "
            f"{tuple(strides)} has {grids.shape[0]}; pass the size the model was run at"
        )
    decoded = raw.copy()
    decoded[..., 0:2] = (raw[..., 0:2] + grids) * stride
    decoded[..., 2:4] = np.exp(raw[..., 2:4]) * stride
    return decoded

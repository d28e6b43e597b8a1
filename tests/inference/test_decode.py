"""The NumPy decoder of raw head outputs must reproduce the model's own decoding exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yolox.inference.decode import decode_outputs, make_grids
from yolox.testing.fixtures import (
    make_model,
)


@pytest.mark.parametrize("size", [(128, 128), (96, 160)])
def test_decode_matches_model_decoding(size):
    model, _ = make_model(None)
    x = torch.rand(2, 3, *size) * 255
    with torch.no_grad():
        model.head.decode_in_inference = False
        raw = model(x).numpy()
        model.head.decode_in_inference = True
        decoded = model(x).numpy()
    ours = decode_outputs(raw, size)
    scale = max(1.0, float(np.abs(decoded).max()))
    np.testing.assert_allclose(ours, decoded, rtol=0, atol=1e-5 * scale)
    assert not np.allclose(raw[..., :4], decoded[..., :4])  # decoding actually did something


def test_grid_order_is_row_major_per_level():
    grids, strides = make_grids((64, 96))
    # level 0: 8 x 12 cells, x fastest
    assert grids.shape == (8 * 12 + 4 * 6 + 2 * 3, 2)
    assert grids[:3].tolist() == [[0, 0], [1, 0], [2, 0]]
    assert grids[12].tolist() == [0, 1]
    assert strides[0, 0] == 8 and strides[8 * 12, 0] == 16 and strides[-1, 0] == 32


def test_decode_rejects_wrong_size():
    with pytest.raises(ValueError, match="anchors"):
        decode_outputs(np.zeros((1, 10, 8), np.float32), (64, 64))

"""The fast inference path computes what eager PyTorch computes (float tolerance; SPPF bitwise)."""

from __future__ import annotations

import copy
import shutil

import cv2
import pytest
import torch

from yolox.inference import Predictor
from yolox.inference.fast import chain_spp_pools, chained_pool_kernels, optimize_for_inference
from yolox.models.network_blocks import SPPBottleneck
from yolox.testing.fixtures import (
    assert_same_detections,
    make_model,
    save_model_checkpoint,
    write_image,
)


def assert_outputs_close(fast: torch.Tensor, eager: torch.Tensor, rtol: float = 1e-3) -> None:
    """Every output column within ``rtol`` of that column's scale (boxes ~pixels, scores ~1)."""
    assert fast.shape == eager.shape
    scale = eager.abs().amax(dim=(0, 1)).clamp(min=1.0)
    err = (fast - eager).abs().amax(dim=(0, 1)) / scale
    assert float(err.max()) <= rtol, f"worst column error {float(err.max()):.2e}"


@pytest.mark.parametrize("attention", [None, "cam", "cbam"])
def test_optimized_model_matches_eager(attention):
    model, _ = make_model(attention)
    fast = optimize_for_inference(model, copy=True)
    assert any(hasattr(m, "chained_kernels") for m in fast.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    gen = torch.Generator().manual_seed(1)
    for size in [(96, 128), (128, 64)]:
        x = torch.rand(2, 3, *size, generator=gen) * 255
        with torch.inference_mode():
            eager = model(x)
            out = fast(x)
        # the model must react to its input, or the comparison would prove nothing
        assert float((eager[0] - eager[1]).abs().max()) > 0.1
        assert_outputs_close(out, eager)


def test_optimize_leaves_the_original_and_its_state_dict_alone():
    model, _ = make_model("cbam")
    before = copy.deepcopy(model.state_dict())
    unfused = optimize_for_inference(model, fuse=False, copy=True)
    assert unfused.state_dict().keys() == before.keys()  # SPPF and channels-last add no keys
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert not any(hasattr(m, "chained_kernels") for m in model.modules())


@pytest.mark.parametrize("kernels", [(5, 9, 13), (3, 5, 9), (5,)])
@pytest.mark.parametrize("size", [(1, 1), (3, 7), (20, 13)])
def test_chained_spp_is_bitwise_equal_to_parallel_pools(kernels, size):
    block = SPPBottleneck(8, 6, kernel_sizes=kernels).eval()
    chained = copy.deepcopy(block)
    assert chain_spp_pools(chained) == 1
    x = torch.randn(2, 8, *size, generator=torch.Generator().manual_seed(0)) * 3
    with torch.no_grad():
        torch.testing.assert_close(chained(x), block(x), rtol=0, atol=0)


def test_chained_pool_kernels():
    assert chained_pool_kernels((5, 9, 13)) == [5, 5, 5]
    assert chained_pool_kernels((3, 7)) == [3, 5]
    assert chained_pool_kernels((9, 5)) is None
    assert chained_pool_kernels((4, 8)) is None


def test_fast_predictor_gives_the_same_detections(tmp_path):
    model, cfg = make_model("cam")
    ckpt = save_model_checkpoint(tmp_path / "cam.pth", model, cfg)
    image = cv2.imread(str(write_image(tmp_path / "img.png", 70, 110)))
    kwargs = dict(device="cpu", test_size=(96, 128), conf=1e-3, nms=0.5)
    plain = Predictor.from_checkpoint(ckpt, **kwargs).predict(image)
    # float32: the fast path's own changes (bf16, which --fast implies on CPUs with native bf16,
    # is checked in test_bf16_inference.py)
    fast = Predictor.from_checkpoint(ckpt, fast=True, precision="fp32", **kwargs).predict(image)
    assert len(plain) > 0
    assert_same_detections(fast.boxes, fast.scores, plain.boxes, plain.scores, atol=1e-3)


@pytest.mark.slow
@pytest.mark.skipif(
    not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
    reason="inductor needs a C++ compiler",
)
def test_compiled_model_matches_eager_and_recompiles_for_a_new_size():
    model, _ = make_model("cbam")
    fast = optimize_for_inference(model, copy=True, compile=True)
    gen = torch.Generator().manual_seed(2)
    for size in [(64, 64), (64, 96)]:  # a second shape must recompile, not reuse the first graph
        x = torch.rand(1, 3, *size, generator=gen) * 255
        with torch.inference_mode():
            assert_outputs_close(fast(x), model(x))

"""``optimize_for_inference``: a faster eval-only model whose outputs equal eager within float rounding.

Each step is independent and kept only because it measurably helps CPU latency without changing
what the model computes (numbers: ``benchmarks/inference_speed.md``):

1. **conv+BN fusion** (``fuse=True``): every BatchNorm after a conv, attention blocks included,
   is folded into the conv's weights and bias (:func:`yolox.utils.model_utils.fuse_model`); one
   pass over each feature map less. Changes outputs only by rounding.
2. **SPPF pooling** (always): the SPP block's parallel 5/9/13 stride-1 max pools are computed as
   a chain of small pools (5, then 5 on that, then 5 again). A max over a 9-window equals the max
   over 5-windows of 5-window maxima (padding is -inf, so borders agree), so results are
   *bitwise* equal, the state dict is untouched (pools have no parameters), and the pooling
   costs 3 x 25 instead of 25 + 81 + 169 comparisons per output element.
3. **channels-last** (``channels_last="auto"``: on for CPU, where it was measured): the
   parameters and the input are stored NHWC, a layout oneDNN's convolution and pooling kernels
   use natively, which avoids reordering activations between NCHW and the kernels' layout.
   A forward pre-hook converts the input, so callers keep passing ordinary NCHW tensors.
4. **torch.compile** (opt-in, ``compile=True``): inductor generates fused kernels for the
   element-wise ops; with *freezing* the weights become constants, so it can pre-pack them for
   oneDNN and fold SiLU/adds into the convolutions as post-ops. Needs a C++ compiler (gcc), costs
   ~10-60 s (here) on the first call and again for each new input shape (``dynamic=False``: every shape
   gets its own specialised graph, up to dynamo's cache limit), so it is off by default.
   ``compile="max-autotune"`` (any ``torch.compile`` mode string) uses that mode without freezing.

Run the result under ``torch.inference_mode()`` (``Predictor.forward`` does): no autograd
bookkeeping at all. The model is modified in place and returned (set ``copy=True`` to keep the
original untouched); it can no longer be trained.
"""

from __future__ import annotations

import copy as copy_module
import types
from typing import Optional, Sequence, Union

import torch
from torch import nn

from yolox.models.network_blocks import SPPBottleneck
from yolox.utils.device import model_device
from yolox.utils.model_utils import fuse_model

__all__ = [
    "optimize_for_inference",
    "chain_spp_pools",
    "chained_pool_kernels",
    "to_channels_last",
]


def chained_pool_kernels(kernel_sizes: Sequence[int]) -> Optional[list]:
    """Kernels ``s_i`` with pool_{k_i} = pool_{s_i} o pool_{k_{i-1}}, or None if not chainable.

    Stride-1 max pools with 'same' padding compose by adding their reaches: a k-window reaches
    (k - 1) / 2 pixels each side, so ``s_i = k_i - k_{i-1} + 1``. Needs odd, increasing sizes.
    """
    sizes = [int(k) for k in kernel_sizes]
    if not sizes or any(k % 2 == 0 or k < 1 for k in sizes):
        return None
    if any(b <= a for a, b in zip(sizes, sizes[1:])):
        return None
    return [sizes[0]] + [b - a + 1 for a, b in zip(sizes, sizes[1:])]


def _chained_spp_forward(self: SPPBottleneck, x: torch.Tensor) -> torch.Tensor:
    x = self.conv1(x)
    pooled = [x]
    for k in self.chained_kernels:
        pooled.append(nn.functional.max_pool2d(pooled[-1], k, stride=1, padding=k // 2))
    return self.conv2(torch.cat(pooled, dim=1))


def _is_plain_stride1_pool(pool: nn.Module) -> bool:
    if not isinstance(pool, nn.MaxPool2d):
        return False
    k = pool.kernel_size if isinstance(pool.kernel_size, int) else None
    return (
        k is not None
        and pool.stride in (1, (1, 1))
        and pool.padding in (k // 2, (k // 2, k // 2))
        and pool.dilation in (1, (1, 1))
        and not pool.ceil_mode
    )


def chain_spp_pools(model: nn.Module) -> int:
    """Rewrite every SPP block to chained (SPPF) pooling in place; returns how many were changed.

    Blocks whose pools are not plain odd stride-1 'same' max pools are left alone.
    """
    changed = 0
    for module in model.modules():
        if not isinstance(module, SPPBottleneck) or hasattr(module, "chained_kernels"):
            continue
        if not all(_is_plain_stride1_pool(p) for p in module.m):
            continue
        steps = chained_pool_kernels([p.kernel_size for p in module.m])
        if steps is None:
            continue
        module.chained_kernels = steps
        module.forward = types.MethodType(_chained_spp_forward, module)
        changed += 1
    return changed


def _input_to_channels_last(_module: nn.Module, args: tuple) -> tuple:
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last), *args[1:])
    return args


def to_channels_last(model: nn.Module) -> nn.Module:
    """NHWC parameters, plus a pre-hook that makes every 4-D input NHWC (idempotent)."""
    model.to(memory_format=torch.channels_last)
    if not getattr(model, "_yolox_channels_last", False):
        model.register_forward_pre_hook(_input_to_channels_last)
        model._yolox_channels_last = True
    return model


def optimize_for_inference(
    model: nn.Module,
    *,
    fuse: bool = True,
    channels_last: Union[bool, str] = "auto",
    compile: Union[bool, str] = False,
    example_input: Optional[torch.Tensor] = None,
    copy: bool = False,
) -> nn.Module:
    """An inference-only version of ``model`` (eval mode, no grads); see the module docstring.

    ``channels_last``: True, False or "auto" (on when the parameters are on the CPU).
    ``compile``: False, True (inductor with freezing, the fastest measured on CPU) or a
    ``torch.compile`` mode string (that mode, no freezing). Run it under ``inference_mode``.
    ``example_input``: when compiling, one forward with it under ``inference_mode`` so the
    compile cost is paid here rather than on the first real call.
    The result keeps the model's attributes (``head``, ...); a compiled result forwards them.
    """
    if copy:
        model = copy_module.deepcopy(model)
    model.eval().requires_grad_(False)
    if fuse:
        fuse_model(model)
    chain_spp_pools(model)
    if channels_last == "auto":
        channels_last = model_device(model).type == "cpu"
    if channels_last:
        to_channels_last(model)
    if compile:
        if isinstance(compile, str):
            model = torch.compile(model, mode=compile, dynamic=False)
        else:
            model = torch.compile(model, dynamic=False, options={"freezing": True})
        if example_input is not None:
            with torch.inference_mode():
                model(example_input)
    return model

"""Model inspection and inference-time rewrites: parameter/FLOP counts and conv+BN fusion."""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = [
    "fuse_conv_and_bn",
    "fuse_model",
    "get_model_info",
    "profile_model",
    "count_params",
    "attention_module_names",
    "replace_module",
    "freeze_module",
    "adjust_status",
]


@torch.no_grad()
def fuse_conv_and_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """Fold an eval-mode BatchNorm that follows ``conv`` into a new conv with bias.

    y = gamma * (W x + b - mean) / sqrt(var + eps) + beta
      = (gamma / std) W x + (gamma / std) (b - mean) + beta
    """
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
    ).to(device=conv.weight.device, dtype=conv.weight.dtype)
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.copy_((conv_bias - bn.running_mean) * scale + bn.bias)
    fused.requires_grad_(False)
    return fused


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def _fold_baseconv(module: nn.Module) -> bool:
    """Fold ``bn`` into ``conv`` for a conv-bn-act block that offers ``fuseforward``."""
    if hasattr(module, "fuseforward") and isinstance(getattr(module, "bn", None), nn.BatchNorm2d):
        module.conv = fuse_conv_and_bn(module.conv, module.bn)
        delattr(module, "bn")
        module.forward = module.fuseforward
        return True
    return False


def fuse_model(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm that follows a conv into it, in place, for inference.

    Handles the YOLOX conv blocks and any module (attention blocks) that defines
    ``fuse_for_inference()``. Call on a model in eval mode; outputs change only by float rounding.
    """
    for module in list(model.modules()):
        if not _fold_baseconv(module):
            fuse = getattr(module, "fuse_for_inference", None)
            if callable(fuse):
                fuse()
    return model


def attention_module_names(model: nn.Module) -> list:
    """Names of the attention blocks a neck built (the children of its ``attention`` ModuleDict)."""
    names = []
    for name, module in model.named_modules():
        if name.split(".")[-1] == "attention" and isinstance(module, nn.ModuleDict):
            names.extend(f"{name}.{child}" for child in module.keys())
    return names


def _as_hw(tsize: Union[int, Sequence[int]]) -> tuple:
    return (tsize, tsize) if isinstance(tsize, int) else (int(tsize[0]), int(tsize[1]))


def profile_model(model: nn.Module, tsize: Union[int, Sequence[int]]) -> Dict[str, float]:
    """Params (M) and GFLOPs at ``tsize``, with the attention blocks' share of each.

    The count runs on a copy of the model on the ``meta`` device (shapes only, no arithmetic),
    falling back to a real CPU forward for ops that meta tensors cannot run.
    """
    from .flops import count_flops  # torch.utils.flop_counter: torch >= 2.1, only needed here

    height, width = _as_hw(tsize)
    attention_names = attention_module_names(model)
    modules = dict(model.named_modules())
    attention_params = sum(count_params(modules[n]) for n in attention_names)
    probe = copy.deepcopy(model).eval()
    try:
        probe = probe.to("meta")
        flops, breakdown = count_flops(
            probe, torch.zeros(1, 3, height, width, device="meta"), attention_names
        )
    except (NotImplementedError, RuntimeError):
        probe = copy.deepcopy(model).eval().to("cpu", torch.float32)
        flops, breakdown = count_flops(probe, torch.zeros(1, 3, height, width), attention_names)
    attention_flops = sum(v for k, v in breakdown.items() if k != "model")
    return {
        "params": count_params(model),
        "params_m": count_params(model) / 1e6,
        "gflops": flops / 1e9,
        "attention_params_m": attention_params / 1e6,
        "attention_gflops": attention_flops / 1e9,
        "height": height,
        "width": width,
    }


def get_model_info(model: nn.Module, tsize: Union[int, Sequence[int]]) -> str:
    """One line, as official YOLOX logs it: params and GFLOPs at the test size."""
    info = profile_model(model, tsize)
    line = f"Params: {info['params_m']:.2f}M, Gflops: {info['gflops']:.2f} @ {info['height']}x{info['width']}"
    if info["attention_params_m"] or info["attention_gflops"]:
        line += f" (attention: {info['attention_params_m'] * 1e3:.1f}K params, {info['attention_gflops']:.3f} GFLOPs)"
    return line


def replace_module(
    module: nn.Module,
    replaced_module_type: Union[type, Tuple[type, ...]],
    new_module_type: type,
    replace_func: Optional[Callable[[Any, type], nn.Module]] = None,
) -> nn.Module:
    """Swap every submodule of type ``replaced_module_type`` for a new one (e.g. SiLU for a traceable one).

    ``replace_func(replaced_module_type, new_module_type)`` makes the replacement (default:
    ``new_module_type()``). Returns the module (a new object if ``module`` itself was replaced).
    """
    if replace_func is None:

        def replace_func(_old: Any, new: type) -> nn.Module:
            return new()

    if isinstance(module, replaced_module_type):
        return replace_func(replaced_module_type, new_module_type)
    for name, child in module.named_children():
        new_child = replace_module(child, replaced_module_type, new_module_type, replace_func)
        if new_child is not child:
            module.add_module(name, new_child)
    return module


def freeze_module(module: nn.Module, name: Optional[str] = None) -> nn.Module:
    """Stop gradients of the parameters whose name contains ``name`` (all when None).

    The BatchNorm layers among those modules are put in eval mode as well, so their running
    statistics stay frozen too (a later ``model.train()`` undoes that part, as in official).
    """
    for param_name, parameter in module.named_parameters():
        if name is None or name in param_name:
            parameter.requires_grad = False
    for module_name, child in module.named_modules():
        if (name is None or name in module_name) and isinstance(child, _BatchNorm):
            child.eval()
    return module


@contextlib.contextmanager
def adjust_status(module: nn.Module, training: bool = False) -> Iterator[nn.Module]:
    """Temporarily put ``module`` (every submodule) in train or eval mode; restore each after."""
    before = {m: m.training for m in module.modules()}
    module.train(training)
    try:
        yield module
    finally:
        for m, mode in before.items():
            m.training = mode

"""Capture what each attention module of a model weights, for one input, with forward hooks.

For every module in ``model.backbone.attention`` (one per position) we record one map:

* ``cam`` (coordinate attention): mean over channels of the outer product ``a_h x a_w``;
* ``cbam``: the spatial gate ``sigmoid(BN(conv([max_c, mean_c])))``;
* ``triplet``: its (H, W) branch gate when present;
* ``se`` / ``eca``: the channel weights (a vector, drawn as a bar chart);
* anything else: the per-pixel mean over channels of ``|out| / |in|`` (how much the module
  scaled each position).

Modules wrapped by ``init="identity"`` (IdentityStart) are unwrapped: the map shows the inner
module's gate, which the wrapper blends with the identity by its ``gamma``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from torch import nn

from yolox.models.attention import (
    CBAM,
    ECA,
    CoordAttention,
    IdentityStart,
    SqueezeExcitation,
    TripletAttention,
)

__all__ = ["AttentionMap", "attention_modules", "capture_attention_maps"]


@dataclass
class AttentionMap:
    """One module's weighting: ``kind`` "spatial" (``values`` [h, w]) or "channel" (``values`` [C])."""

    position: str
    module_type: str
    kind: str
    values: np.ndarray
    description: str


def attention_modules(model: nn.Module) -> Dict[str, nn.Module]:
    """Position name -> attention module of the model's neck (empty for a plain YOLOX)."""
    neck = getattr(model, "backbone", model)
    modules = getattr(neck, "attention", None)
    if not isinstance(modules, nn.ModuleDict):
        return {}
    return dict(modules.items())


def _type_name(module: nn.Module) -> str:
    from yolox.models.attention import ATTENTION_REGISTRY

    for name, cls in ATTENTION_REGISTRY.items():
        if type(module) is cls:
            return name
    return type(module).__name__.lower()


def _hook(store: Dict[str, torch.Tensor], key: str, use_input: bool = False) -> Callable:
    def fn(_module, inputs, output):
        store[key] = (inputs[0] if use_input else output).detach().float().cpu()

    return fn


def _register(
    inner: nn.Module, store: Dict[str, torch.Tensor]
) -> List[torch.utils.hooks.RemovableHandle]:
    """Hooks on the layers whose outputs are the gate logits; ``in``/``out`` for the fallback."""
    handles = [
        inner.register_forward_hook(_hook(store, "in", use_input=True)),
        inner.register_forward_hook(_hook(store, "out")),
    ]
    if isinstance(inner, CoordAttention):
        handles += [
            inner.conv_h.register_forward_hook(_hook(store, "a_h")),
            inner.conv_w.register_forward_hook(_hook(store, "a_w")),
        ]
    elif isinstance(inner, CBAM):
        gate = inner.spatial_gate
        handles.append(gate.bn.register_forward_hook(_hook(store, "spatial")))
    elif isinstance(inner, TripletAttention) and hasattr(inner, "hw"):
        handles.append(inner.hw.bn.register_forward_hook(_hook(store, "spatial")))
    elif isinstance(inner, SqueezeExcitation):
        handles.append(inner.fc2.register_forward_hook(_hook(store, "channel")))
    elif isinstance(inner, ECA):
        handles.append(inner.conv.register_forward_hook(_hook(store, "channel")))
    return handles


def _to_map(
    position: str, module_type: str, store: Dict[str, torch.Tensor], index: int
) -> AttentionMap:
    if "a_h" in store and "a_w" in store:
        a_h = store["a_h"][index].sigmoid()  # [C, H, 1]
        a_w = store["a_w"][index].sigmoid()  # [C, 1, W]
        values = (a_h * a_w).mean(0).numpy()
        return AttentionMap(
            position, module_type, "spatial", values, "mean over channels of a_h x a_w"
        )
    if "spatial" in store:
        values = store["spatial"][index, 0].sigmoid().numpy()
        return AttentionMap(
            position, module_type, "spatial", values, "spatial gate sigmoid(BN(conv(zpool)))"
        )
    if "channel" in store:
        values = store["channel"][index].sigmoid().flatten().numpy()
        return AttentionMap(position, module_type, "channel", values, "channel weights sigmoid(.)")
    x_in, x_out = store["in"][index], store["out"][index]
    ratio = (x_out.abs() / (x_in.abs() + 1e-6)).mean(0).numpy()
    return AttentionMap(
        position, module_type, "spatial", ratio, "mean over channels of |out| / |in|"
    )


@torch.no_grad()
def capture_attention_maps(
    model: nn.Module, inputs: torch.Tensor, index: int = 0
) -> List[AttentionMap]:
    """Run ``model`` (eval mode) on ``inputs`` [B, 3, H, W]; one AttentionMap per position, in order.

    The hooks are removed afterwards, also on error.
    """
    model.eval()
    stores: Dict[str, Dict[str, torch.Tensor]] = {}
    handles: List[torch.utils.hooks.RemovableHandle] = []
    types: Dict[str, str] = {}
    try:
        for position, module in attention_modules(model).items():
            inner: Optional[nn.Module] = (
                module.attn if isinstance(module, IdentityStart) else module
            )
            stores[position] = {}
            types[position] = _type_name(inner)
            handles += _register(inner, stores[position])
        model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return [_to_map(pos, types[pos], store, index) for pos, store in stores.items()]

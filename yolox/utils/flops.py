"""FLOP counting that is right for attention modules.

Convolutions and matrix products are counted everywhere as 2 * multiply-accumulates (the
convention behind YOLOX's published GFLOPs). Attention modules spend most of their work in
pooling, gating and normalisation, which that convention ignores; inside the modules named by
the caller, every element-wise op and reduction is counted as well (one FLOP per output element,
one per input element for reductions), so their cost is not reported as zero.
The count runs the real model at the real input size: nothing is scaled from a smaller input.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from contextlib import ExitStack
from typing import Any, Callable, Dict, Iterable, Tuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["count_flops"]

aten = torch.ops.aten


def _flop_formulas() -> Dict[Any, Callable[..., int]]:
    """torch's per-op FLOP formulas, each called with the op's values and ``out_val=``.

    Recent torch's ``flop_registry`` takes the op's output as ``out_val=``; torch 2.2 and 2.3
    (our floor, tested) name it ``out=``: both get the one calling convention here.
    """
    from torch.utils.flop_counter import flop_registry, shape_wrapper

    wrapped = shape_wrapper(lambda *args, **kwargs: 0)
    if "out_val" in inspect.signature(wrapped, follow_wrapped=False).parameters:
        return flop_registry

    def out_named_out(formula: Callable[..., int]) -> Callable[..., int]:
        def count(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
            return formula(*args, out=out_val, **kwargs)

        return count

    return {op: out_named_out(formula) for op, formula in flop_registry.items()}


flop_registry = _flop_formulas()

# Ops that move or alias data without arithmetic.
_FREE_OPS = {
    aten.view,
    aten._unsafe_view,
    aten.reshape,
    aten.permute,
    aten.transpose,
    aten.t,
    aten.expand,
    aten.cat,
    aten.stack,
    aten.split,
    aten.split_with_sizes,
    aten.slice,
    aten.select,
    aten.unsqueeze,
    aten.squeeze,
    aten.clone,
    aten.detach,
    aten.alias,
    aten.unbind,
    aten.contiguous,
    aten._to_copy,
    aten.copy_,
    aten.empty,
    aten.zeros,
    aten.ones,
    aten.full,
    aten.zeros_like,
    aten.ones_like,
    aten.empty_like,
    aten.new_zeros,
    aten.new_empty,
    aten.index_select,
    aten.flip,
    aten.roll,
    aten.chunk,
    aten.narrow,
    aten.lift_fresh,
    aten.lift_fresh_copy,
    aten.arange,
    aten.as_strided,
    aten.repeat,
    aten.channel_shuffle,
    aten.pixel_shuffle,
    aten.flatten,
    aten.constant_pad_nd,
}
_REDUCTIONS = {
    aten.mean,
    aten.sum,
    aten.amax,
    aten.amin,
    aten.max,
    aten.min,
    aten.var,
    aten.std,
    aten.var_mean,
    aten.std_mean,
    aten.prod,
    aten.logsumexp,
    aten.norm,
    aten.linalg_vector_norm,
    aten._softmax,
    aten.softmax,
    aten._log_softmax,
}


def _numel(value) -> int:
    leaves, _ = tree_flatten(value)
    return sum(t.numel() for t in leaves if isinstance(t, torch.Tensor))


class _Counter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.scope: list = ["model"]
        self.flops: Dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        scope = self.scope[-1]
        if packet in flop_registry:
            self.flops[scope] += int(flop_registry[packet](*args, **kwargs, out_val=out))
        elif scope != "model" and packet not in _FREE_OPS:
            self.flops[scope] += _numel(args[0]) if packet in _REDUCTIONS else _numel(out)
        return out


def count_flops(
    model: nn.Module, inputs: torch.Tensor, full_count_modules: Iterable[str] = ()
) -> Tuple[int, Dict[str, int]]:
    """FLOPs of ``model(inputs)`` and a breakdown {"model": ..., <module name>: ...}.

    Modules named in ``full_count_modules`` (attention blocks) also get element-wise ops counted
    and their FLOPs are reported under their own name (and included in the total).
    """
    counter = _Counter()
    names = set(full_count_modules)
    handles = []

    def enter(name: str):
        def hook(module, args) -> None:
            counter.scope.append(name)

        return hook

    def leave(module, args, output) -> None:  # must return None: a value would replace the output
        counter.scope.pop()

    for name, module in model.named_modules():
        if name in names:
            handles.append(module.register_forward_pre_hook(enter(name)))
            handles.append(module.register_forward_hook(leave))
    try:
        with ExitStack() as stack:
            stack.enter_context(torch.no_grad())
            stack.enter_context(counter)
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    breakdown = dict(counter.flops)
    return sum(breakdown.values()), breakdown

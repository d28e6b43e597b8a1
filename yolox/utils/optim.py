"""Optimizer parameter groups with the YOLOX weight-decay policy, and a coverage check.

The official grouping walks modules and silently forgets parameters that are neither a
``weight`` nor a ``bias`` (e.g. the scalar ``gamma`` of an attention block). Such a parameter
then never trains. Here every trainable parameter is classified and the result is checked.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from torch import nn

__all__ = ["build_param_groups", "check_param_groups", "ParamGroupError", "NORM_TYPES"]

NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.LocalResponseNorm,
)


class ParamGroupError(RuntimeError):
    """A trainable parameter is missing from the optimizer, or present more than once."""


def _is_norm(name: str, module: nn.Module) -> bool:
    short = name.rsplit(".", 1)[-1]
    return isinstance(module, NORM_TYPES) or short == "bn" or short.startswith("bn")


def build_param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Three groups in the official order: [norm weights, other weights (decayed), biases].

    Groups 0 and 2 have no weight decay. Raw parameters whose name ends in ``bias`` (shuffle
    attention's ``cbias``/``sbias``, which start at 1) count as biases; other parameters that
    are neither ``weight`` nor ``bias`` (layer-scale ``gamma``, positional tables...) go to group
    0 when they have at most one dimension and to the decayed group otherwise. Frozen
    parameters are left out.
    """
    norm_w: list[nn.Parameter] = []
    decay_w: list[nn.Parameter] = []
    biases: list[nn.Parameter] = []
    seen: set[int] = set()
    for mod_name, module in model.named_modules():
        for p_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            if p_name == "bias" or p_name.endswith("bias"):  # e.g. shuffle attention's cbias/sbias
                biases.append(param)
            elif p_name == "weight":
                (norm_w if _is_norm(mod_name, module) else decay_w).append(param)
            else:
                (norm_w if param.ndim <= 1 else decay_w).append(param)
    groups = [
        {"params": norm_w, "weight_decay": 0.0},
        {"params": decay_w, "weight_decay": weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]
    check_param_groups(model, groups)
    return groups


def _group_params(group: dict | Sequence) -> Iterable:
    params = group["params"] if isinstance(group, dict) else group
    return [params] if isinstance(params, nn.Parameter) else params


def check_param_groups(model: nn.Module, groups: Sequence[dict]) -> None:
    """Raise :class:`ParamGroupError` unless each trainable parameter is in exactly one group.

    Accepts ``optimizer.param_groups`` as well as the list given to an optimizer.
    """
    count: dict[int, int] = {}
    for group in groups:
        for p in _group_params(group):
            count[id(p)] = count.get(id(p), 0) + 1
    names: dict[int, str] = {}
    for name, p in model.named_parameters():
        names.setdefault(id(p), name)
    missing = [
        n for n, p in model.named_parameters() if p.requires_grad and count.get(id(p), 0) == 0
    ]
    repeated = [names.get(i, f"<unnamed id {i}>") for i, c in count.items() if c > 1]
    if missing or repeated:
        parts = []
        if missing:
            parts.append(f"not in any optimizer group (would never train): {missing}")
        if repeated:
            parts.append(f"in more than one group: {repeated}")
        raise ParamGroupError("Optimizer parameter groups are wrong; " + "; ".join(parts))

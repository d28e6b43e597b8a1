"""Where attention goes in a neck: parse the Exp's ``attention`` field into position -> module.

Accepted forms of ``attention``:

* ``None``: no attention (the official model, key for key);
* a spec, ``"cam"`` or ``{"type": "cbam", "ratio": 8}``: that module at the default positions
  (the three backbone outputs ``dark3``, ``dark4``, ``dark5``);
* a spec with ``positions``: ``{"type": "se", "positions": ["C3_p3", "C3_n3"]}``;
* a mapping of positions to specs: ``{"positions": {"dark5": "cam", "C3_p3": {"type": "eca"}}}``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import torch
from torch import nn

from .attention import build_attention

__all__ = ["DEFAULT_POSITIONS", "resolve_attention_plan", "build_position_modules", "apply_at"]

DEFAULT_POSITIONS = ("dark3", "dark4", "dark5")

AttentionSpec = Any


def resolve_attention_plan(
    attention: AttentionSpec, valid_positions: Sequence[str]
) -> Dict[str, AttentionSpec]:
    """Map each selected position name to the module spec placed there (empty for ``None``)."""
    if attention is None or attention == "none" or attention == {}:
        return {}
    if isinstance(attention, str):
        plan = {pos: attention for pos in DEFAULT_POSITIONS}
    elif isinstance(attention, Mapping):
        spec = dict(attention)
        positions = spec.pop("positions", None)
        if isinstance(positions, Mapping):
            if spec:
                raise ValueError(
                    f"attention: with a positions mapping, give specs per position only; extra keys {sorted(spec)}"
                )
            plan = dict(positions)
        else:
            if "type" not in spec:
                raise ValueError(f"attention spec {attention!r} needs a 'type' (for example 'cam')")
            names = DEFAULT_POSITIONS if positions is None else positions
            if isinstance(names, str):
                names = [names]
            plan = {pos: spec for pos in names}
    else:
        raise TypeError(
            f"attention must be None, a name, or a dict; got {type(attention).__name__}"
        )
    unknown = [pos for pos in plan if pos not in valid_positions]
    if unknown:
        raise ValueError(
            f"unknown attention position(s) {unknown}; valid positions: {list(valid_positions)}"
        )
    return {pos: plan[pos] for pos in valid_positions if pos in plan and plan[pos] is not None}


def build_position_modules(
    plan: Mapping[str, AttentionSpec], channels: Mapping[str, int]
) -> nn.ModuleDict:
    """One module per selected position, keyed by position name (deterministic state-dict keys)."""
    return nn.ModuleDict({pos: build_attention(spec, channels[pos]) for pos, spec in plan.items()})


def apply_at(modules: nn.ModuleDict, position: str, x: torch.Tensor) -> torch.Tensor:
    """Run the module built at ``position``; positions without one pass ``x`` through."""
    return modules[position](x) if position in modules else x

"""Where attention goes in a neck: parse the Exp's ``attention`` field into position -> module.

Accepted forms of ``attention``:

* ``None`` (or ``"none"``/``"None"``/``{}``): no attention (the official model, key for key);
* a spec, ``"cam"`` or ``{"type": "cbam", "ratio": 8}``: that module at the default positions
  (the three backbone outputs ``dark3``, ``dark4``, ``dark5``);
* a spec with ``positions``: ``{"type": "se", "positions": ["C3_p3", "C3_n3"]}``;
* a mapping of positions to specs: ``{"positions": {"dark5": "cam", "C3_p3": {"type": "eca"}}}``;
  a position given ``None``/``"none"`` there gets no module.
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, Mapping, Optional, Sequence

import torch
from torch import nn

from yolox.utils.errors import UserError

from .attention import build_attention, normalize_attention_spec

__all__ = [
    "DEFAULT_POSITIONS",
    "resolve_attention_plan",
    "model_attention_plan",
    "build_position_modules",
    "attention_init_seed",
    "apply_at",
]

DEFAULT_POSITIONS = ("dark3", "dark4", "dark5")

AttentionSpec = Any


def _means_none(attention: AttentionSpec) -> bool:
    """``None``, ``""``, ``"none"`` in any case, ``{}``, or a dict whose type says none."""
    if attention is None:
        return True
    if isinstance(attention, str):
        return attention.strip().lower() in ("", "none")
    if isinstance(attention, Mapping):
        if not attention:
            return True
        kind = attention.get("type")
        return "type" in attention and (kind is None or _means_none(kind))
    return False


def resolve_attention_plan(
    attention: AttentionSpec, valid_positions: Sequence[str]
) -> Dict[str, Dict[str, Any]]:
    """Map each selected position to the canonical spec placed there (empty for no attention).

    This is the one normaliser of ``attention``: "none" in any spelling, at the top level or
    for one position, means no module at all (never an ``nn.Identity`` entry), and every spec
    comes back in :func:`normalize_attention_spec` form, so equal plans compare equal.
    """
    if _means_none(attention):
        return {}
    if isinstance(attention, str):
        plan = {pos: attention for pos in DEFAULT_POSITIONS}
    elif isinstance(attention, Mapping):
        spec = dict(attention)
        positions = spec.pop("positions", None)
        if isinstance(positions, Mapping):
            if spec:
                raise UserError(
                    f"attention: with a positions mapping, give specs per position only; extra keys {sorted(spec)}"
                )
            plan = dict(positions)
        else:
            if "type" not in spec:
                raise UserError(f"attention spec {attention!r} needs a 'type' (for example 'cam')")
            names = DEFAULT_POSITIONS if positions is None else positions
            if isinstance(names, str):
                names = [names]
            plan = {pos: spec for pos in names}
    else:
        raise UserError(
            f"attention must be None, a name, or a dict; got {type(attention).__name__}"
        )
    unknown = [pos for pos in plan if pos not in valid_positions]
    if unknown:
        raise UserError(
            f"unknown attention position(s) {unknown}; valid positions: {list(valid_positions)}"
        )
    specs = {pos: normalize_attention_spec(plan[pos]) for pos in valid_positions if pos in plan}
    return {pos: spec for pos, spec in specs.items() if spec is not None}


def model_attention_plan(model: nn.Module) -> Optional[Dict[str, Dict[str, Any]]]:
    """The attention a built model carries, position -> canonical spec, read from its neck.

    None when the model has no neck that takes attention (a custom one). The neck's plan is
    checked against the modules it actually holds, so a plan and modules that disagree (a
    module deleted or added after construction) raise ValueError instead of passing.
    """
    necks = [m for m in model.modules() if isinstance(getattr(m, "attention_plan", None), dict)]
    if not necks:
        return None
    if len(necks) > 1:
        raise ValueError(f"the model has {len(necks)} necks with attention; expected one")
    neck = necks[0]
    modules = neck.attention if isinstance(neck.attention, nn.ModuleDict) else {}
    if set(modules) != set(neck.attention_plan):
        raise ValueError(
            f"the neck's attention modules {sorted(modules)} do not match its plan "
            f"{sorted(neck.attention_plan)}"
        )
    return dict(neck.attention_plan)


def attention_init_seed(position: str) -> int:
    """The seed of the attention module at ``position``: from the global seed, never its stream.

    ``torch.initial_seed()`` is the seed last given to ``torch.manual_seed`` (the run's seed);
    reading it draws nothing, so building attention leaves the global random stream where it
    was and the base network's weights and everything drawn after them (head init, data
    loading) stay those of the model without attention.
    """
    text = f"{torch.initial_seed()}:{position}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") & (2**63 - 1)


def build_position_modules(
    plan: Mapping[str, AttentionSpec], channels: Mapping[str, int]
) -> nn.ModuleDict:
    """One module per selected position, keyed by position name (deterministic state-dict keys).

    Each module draws its initialisation from a generator of its own (common random numbers:
    for one seed, every attention variant shares the baseline's base-network weights).
    """
    modules = {}
    for pos, spec in plan.items():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(attention_init_seed(pos))
            modules[pos] = build_attention(spec, channels[pos])
    return nn.ModuleDict(modules)


def apply_at(modules: nn.ModuleDict, position: str, x: torch.Tensor) -> torch.Tensor:
    """Run the module built at ``position``; positions without one pass ``x`` through."""
    return modules[position](x) if position in modules else x

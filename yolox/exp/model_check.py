"""Check that a model carries the attention its exp asks for.

Official-style exps override ``get_model`` and build ``YOLOPAFPN``/``YOLOFPN`` themselves. If
such a ``get_model`` does not pass ``attention=self.attention``, ``attention cam`` on the
command line would silently train the baseline under the name "CAM". :class:`~.yolox_base.Exp`
runs :func:`check_model_attention` on whatever its ``get_model`` builds, and every entry point
(train, eval, ablate, bench, export) takes its model through
:func:`~.yolox_base.get_checked_model`; both fail with the exp file and the one-line fix
whenever the model's attention differs from the exp's.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Optional

from torch import nn

from yolox.models.neck_attention import model_attention_plan, resolve_attention_plan
from yolox.models.yolo_pafpn import YOLOPAFPN

from .base_exp import BaseExp
from .build import ExpError

__all__ = ["check_model_attention"]


def _get_model_origin(exp: BaseExp) -> str:
    """``file (Class.get_model)`` of the class whose ``get_model`` built the model."""
    for cls in type(exp).__mro__:
        if "get_model" in vars(cls):
            try:
                where = inspect.getsourcefile(cls) or cls.__module__
            except TypeError:
                where = cls.__module__
            return f"{where} ({cls.__qualname__}.get_model)"
    return type(exp).__qualname__


def _describe(plan: Dict[str, Dict[str, Any]]) -> str:
    """``cam at dark3, dark4, dark5`` (one group per distinct spec), or ``none``."""
    if not plan:
        return "none"
    groups: Dict[str, list] = {}
    for position, spec in plan.items():
        label = spec["type"] if len(spec) == 1 else repr(spec)
        groups.setdefault(label, []).append(position)
    return "; ".join(f"{label} at {', '.join(positions)}" for label, positions in groups.items())


def check_model_attention(exp: BaseExp, model: nn.Module, requested: Any) -> None:
    """Raise ExpError, naming the exp file and the fix, unless ``model`` has the attention
    ``requested`` (the exp's ``attention`` field; None for an exp without one)."""
    origin = _get_model_origin(exp)
    try:
        wanted = resolve_attention_plan(requested, YOLOPAFPN.POSITIONS)
        found: Optional[Dict[str, Dict[str, Any]]] = model_attention_plan(model)
    except (ValueError, TypeError) as exc:
        raise ExpError(f"{origin}: attention {requested!r}: {exc}") from exc
    if found is None:
        if wanted:
            raise ExpError(
                f"{origin}: the exp asks for attention ({_describe(wanted)}) but get_model() "
                "returned a model without a YOLOPAFPN or YOLOFPN neck to place it in. Fix: build "
                "the neck with YOLOPAFPN(..., attention=self.attention)"
            )
        return
    if found != wanted:
        neck = next(type(m).__name__ for m in model.modules() if hasattr(m, "attention_plan"))
        raise ExpError(
            f"{origin}: the model has attention {_describe(found)} but the exp asks for "
            f"{_describe(wanted)} (attention={requested!r}). Fix: pass "
            f"attention=self.attention to {neck}(...) in get_model"
        )

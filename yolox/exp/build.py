"""Find and load an experiment: from a Python file (``-f``) or an official model name (``-n``)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Optional

from yolox.utils.errors import UserError
from yolox.utils.pyfile import NotImportable, import_file

from .base_exp import BaseExp

__all__ = ["get_exp", "get_exp_by_file", "get_exp_by_name", "ExpError"]


class ExpError(UserError):
    """The experiment file or name cannot be turned into an Exp."""


def get_exp_by_file(exp_file: str) -> BaseExp:
    """Import ``exp_file`` and instantiate its ``Exp`` class.

    Errors raised while importing the file propagate with their own traceback (they are the
    user's to fix); only a missing file or a missing ``Exp`` class become an ExpError.
    """
    path = Path(exp_file)
    if not path.is_file():
        raise ExpError(f"experiment file not found: {exp_file}")
    try:
        module = import_file(path)  # errors in the exp file surface here, unchanged
    except NotImportable as exc:
        raise ExpError(f"cannot import experiment file {exp_file} (is it a .py file?)") from exc
    exp_class = getattr(module, "Exp", None)
    if exp_class is None:
        raise ExpError(f"experiment file {exp_file} defines no class named 'Exp'")
    exp = exp_class()
    if not isinstance(exp, BaseExp):
        raise ExpError(f"{exp_file}: Exp must derive from yolox.exp.BaseExp")
    if exp.exp_name in (None, "yolox_base"):
        exp.exp_name = path.stem
    return exp


def get_exp_by_name(exp_name: str) -> BaseExp:
    """An official model by name: yolox-nano, -tiny, -s, -m, -l, -x, yolov3 (``_`` also accepted)."""
    from yolox.models.build import MODEL_ZOO

    key = exp_name.lower().replace("_", "-")
    if key not in MODEL_ZOO:
        raise ExpError(f"unknown model name {exp_name!r}; choose one of {sorted(MODEL_ZOO)}")
    return importlib.import_module(f"yolox.exp.default.{key.replace('-', '_')}").Exp()


def get_exp(exp_file: Optional[str] = None, exp_name: Optional[str] = None) -> BaseExp:
    """The Exp of ``exp_file`` if given, else the official one named ``exp_name``."""
    if exp_file is not None:
        return get_exp_by_file(os.fspath(exp_file))
    if exp_name is not None:
        return get_exp_by_name(exp_name)
    raise ExpError("give an experiment file (-f) or a model name (-n)")

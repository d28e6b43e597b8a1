"""Import a Python file as a module (exp files), the way a script run from its folder would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Union

__all__ = ["import_file", "NotImportable"]


class NotImportable(ImportError):
    """The path exists but Python cannot import it as a module (not a .py file)."""


def import_file(path: Union[str, Path], prefix: str = "yolox_exp") -> ModuleType:
    """Execute ``path`` as a fresh module (registered in sys.modules) and return it.

    The file's folder is on sys.path while it runs, so it may import helpers next to it. Errors
    inside the file propagate unchanged; a path that is not an importable file raises
    FileNotFoundError / NotImportable naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    module_name = f"{prefix}_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise NotImportable(f"cannot import {path} (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module

"""What every ``python tools/X.py`` does: run ``yolox.tools.X`` of the installed package.

The scripts do not edit ``sys.path``: the package is installed first (``pip install -e .`` in
the clone, as the README says). Without it they stop with that instruction (exit 2) instead of
a ModuleNotFoundError; an installed package from another folder than this clone runs with a
warning, so that nobody runs other code than the one they are editing without knowing it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

CLONE = Path(__file__).resolve().parents[1]


def _is_yolox(missing: str | None) -> bool:
    return missing is not None and (missing == "yolox" or missing.startswith("yolox."))


def require(module: str) -> ModuleType:
    """``module`` of the installed yolox package; exit 2 with the install command if missing."""
    script = Path(sys.argv[0]).name
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if not _is_yolox(err.name):
            raise  # a dependency of the package: its own message says which
        print(
            f"{script}: error: {module} is not installed ({err.name} missing): run "
            f"`pip install -e .` in {CLONE} first",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    package = Path(sys.modules["yolox"].__file__).resolve().parent
    if (CLONE / "yolox").is_dir() and package != CLONE / "yolox":
        print(
            f"{script}: warning: running the yolox installed from {package.parent}, not this "
            f"clone ({CLONE}); `pip install -e .` here to run this clone's code",
            file=sys.stderr,
        )
    return found


def run(module: str) -> int:
    """``main()`` of the tool module ``module``: its exit status."""
    return require(module).main()

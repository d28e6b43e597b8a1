"""Console scripts: every [project.scripts] entry names a callable that exists, and runs."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11+")


def _scripts() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["scripts"]


def test_every_tool_has_a_console_script_that_resolves():
    scripts = _scripts()
    for name, target in scripts.items():
        module_name, _, attr = target.partition(":")
        func = getattr(importlib.import_module(module_name), attr)
        assert callable(func), name
    # each tools/X.py shim has its entry point, so both ways of running reach the same main
    shims = {p.stem for p in (ROOT / "tools").glob("*.py")} - {"onnx_inference", "_entry"}
    targets = {t.split(":")[0].rsplit(".", 1)[1] for t in scripts.values()}
    assert shims <= targets


def test_console_script_names_are_their_modules_names():
    """yolox-X-Y runs yolox.tools.X_Y: one name per command, whichever way it is called."""
    for name, target in _scripts().items():
        module = target.split(":")[0]
        assert module == "yolox.tools." + name.removeprefix("yolox-").replace("-", "_"), name


def test_console_script_target_runs_help():
    module_name = _scripts()["yolox-train"].split(":")[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = f"import sys; from {module_name} import main; sys.exit(main(['--help']))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "--start_epoch" in proc.stdout, proc.stderr

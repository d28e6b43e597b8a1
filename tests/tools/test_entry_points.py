"""Console scripts: every [project.scripts] entry names a callable that exists, and runs."""

from __future__ import annotations

import ast
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


def _python_files(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _edits_sys_path(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        and isinstance(getattr(node, "parent", None), ast.Attribute)
        for node in ast.walk(tree)
    )


def _tree(path: Path) -> ast.AST:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node  # sys.path.insert: the Attribute "path" under "insert"
    return tree


def test_tool_scripts_run_the_installed_package_without_editing_sys_path():
    editing = [p.name for p in _python_files(ROOT / "tools") if _edits_sys_path(_tree(p))]
    assert not editing


def test_tool_scripts_without_the_package_say_how_to_install_it(tmp_path):
    """No site-packages (python -S) and no PYTHONPATH: the package is not importable."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for tool in ("train", "check_data"):
        proc = subprocess.run(
            [sys.executable, "-S", str(ROOT / "tools" / f"{tool}.py"), "--help"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == (
            f"{tool}.py: error: yolox.tools.{tool} is not installed (yolox missing): run "
            f"`pip install -e .` in {ROOT} first"
        )


def test_tests_import_installed_modules_not_files_of_other_tests():
    """No ``from test_x import``, no sys.path edits, no tools/ file loaded by path: shared
    helpers live in conftest.py fixtures or installed modules (yolox.testing)."""
    found = []
    for path in _python_files(ROOT / "tests"):
        tree = _tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("test_"):
                found.append(f"{path.name}: from {node.module} import")
            if isinstance(node, ast.Import):
                found += [
                    f"{path.name}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("test_")
                ]
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).endswith("spec_from_file_location")
                and "'tools'" in ast.unparse(node)
            ):
                found.append(f"{path.name}: loads a tools/ file by path")
        if _edits_sys_path(tree):
            found.append(f"{path.name}: edits sys.path")
    assert not found, "\n".join(found)

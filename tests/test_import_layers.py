"""Imports only go down the floors of the house plan; no package reaches up or sideways."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "yolox"

# A package may import packages on lower floors only (ARCHITECTURE.md, plus the packages added
# since: inference beside core, deploy above inference, ablation above them).
FLOORS = {
    "utils": 0,
    "models": 1,
    "data": 1,
    "evaluators": 2,
    "exp": 3,
    "core": 4,
    "inference": 4,
    "deploy": 5,
    "ablation": 6,
    "tools": 7,
    "testing": 8,  # helpers for tests and benchmarks; nothing in the library imports them
}


def _imported_packages(path: Path) -> set:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[:-1])[: len(parts) - node.level]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
        else:
            continue
        found.update(n.split(".")[1] for n in names if n.startswith("yolox.") and n.count(".") >= 1)
    return found


def test_every_package_has_a_floor():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(FLOORS)


def test_imports_only_go_down():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) < 2:
            continue
        own = rel.parts[0]
        for target in _imported_packages(path) - {own}:
            if FLOORS[target] >= FLOORS[own]:
                violations.append(f"{rel} imports yolox.{target}")
    assert not violations, "\n".join(sorted(violations))


def test_flop_counter_is_imported_only_when_counting():
    """torch.utils.flop_counter needs torch >= 2.1; importing the library must not need it."""
    import subprocess
    import sys

    code = (
        "import sys, yolox.utils, yolox.models, yolox.exp, yolox.core, yolox.tools.train; "
        "print('torch.utils.flop_counter' in sys.modules)"
    )
    env = {"PYTHONPATH": str(PACKAGE.parent), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr

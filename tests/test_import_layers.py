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


def _module_graph() -> dict:
    """module -> the yolox modules it imports anywhere in its file (lazy imports too), package
    ``__init__`` re-exports left out (importing a package is not importing its modules)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph = {}
    for name, path in modules.items():
        if name in packages:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        list(parts[: len(parts) - node.level]) + ([base] if base else [])
                    )
                targets.update(f"{base}.{alias.name}" for alias in node.names)
                targets.add(base)
        graph[name] = {t for t in targets if t in modules and t not in packages and t != name}
    return graph


def test_no_module_imports_its_way_back_to_itself():
    """No circle of imports between modules (the predictor <-> exported-predictor one went when
    the deploy package was split off); lazy imports inside functions count too."""
    graph = _module_graph()
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circle = set(trail)
                    if circle not in circles:
                        circles.append(circle)
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
    assert not circles, [sorted(c) for c in circles]

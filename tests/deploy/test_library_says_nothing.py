"""The library returns and raises; the tools print and decide (issue 19.2).

Nothing in ``yolox/inference`` or ``yolox/deploy`` prints, exits, or raises an error that names a
command-line flag: a flag means something only to the tool that defines it, so such messages
belong to ``yolox/tools``, which turns the library's values and errors into them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "yolox"
PACKAGES = ("inference", "deploy")
#: ``--max-ap-drop``, ``-f/-n``, ``-c CKPT``: a flag, not a hyphenated word or a negative number
FLAG = re.compile(r"(?<![\w-])(--[a-z][\w-]*|-[a-zA-Z](?=[/ ]|$))")
#: install hints name pip's flags, not ours
PIP_COMMAND = re.compile(r"pip install [^;:)]*")


def _strings(node: ast.AST) -> list:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _offences(path: Path) -> list:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.parent.name}/{path.name}:{getattr(node, 'lineno', 0):04d}"
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("print", "sys.exit", "exit", "quit", "os._exit"):
                found.append(f"{where} calls {name}")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            if "SystemExit" in ast.unparse(node.exc):
                found.append(f"{where} raises SystemExit")
            flags = [m for s in _strings(node.exc) for m in FLAG.findall(PIP_COMMAND.sub("", s))]
            if flags:
                found.append(f"{where} raises an error naming {flags}")
    return sorted(found)


def test_library_neither_prints_nor_exits_nor_names_flags():
    offences = [
        line
        for package in PACKAGES
        for path in sorted((LIBRARY / package).rglob("*.py"))
        for line in _offences(path)
    ]
    assert not offences, "\n".join(offences)


def test_the_check_sees_what_it_must(tmp_path):
    """The scanner itself: a print, an exit and a flag in an error are found; words are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sys\n"
        "def f(x):\n"
        "    print(x)\n"
        "    if x:\n"
        "        sys.exit(2)\n"
        "    raise ValueError(f'more than --max-ap-drop {x}; pass -c/--ckpt')\n"
        "def g():\n"
        "    raise ValueError('a well-known non-flag word, -1.0 and x-y')\n"
        "def h():\n"
        "    raise ImportError('needs nncf: pip install -e \".[deploy]\"')\n"
    )
    found = _offences(sample)
    assert len(found) == 3, found
    assert "calls print" in found[0] and "calls sys.exit" in found[1]
    assert "'--max-ap-drop'" in found[2] and "'-c'" in found[2] and "'--ckpt'" in found[2]


def test_importing_deploy_needs_no_optional_runtime():
    """onnx, onnxruntime, openvino and nncf are optional (``.[deploy]``): importing the package,
    its quantizers and the tools that use it must not import them (only using them does)."""
    import subprocess
    import sys

    code = (
        "import sys, yolox.deploy, yolox.deploy.bench, yolox.deploy.quantize_nncf, "
        "yolox.deploy.quantize_onnxruntime, yolox.tools.eval, yolox.tools.demo, "
        "yolox.tools.export_onnx, yolox.tools.export_openvino; "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'openvino', 'nncf') if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(LIBRARY.parent), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-2000:]

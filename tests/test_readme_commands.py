"""The README's first screen and CI must agree: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 2, "README must open with an install/main-job block and a test block"
    test_command = blocks[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_readme_main_command_names_an_existing_exp():
    main_command = _bash_blocks((ROOT / "README.md").read_text())[0]
    exp_files = re.findall(r"-f (\S+\.py)", main_command)
    assert exp_files and all((ROOT / f).is_file() for f in exp_files)

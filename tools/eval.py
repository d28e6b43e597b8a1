#!/usr/bin/env python3
"""Thin wrapper: `python tools/eval.py ...` == `python -m yolox.tools.eval ...` (installed package)."""

import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run("yolox.tools.eval"))

#!/usr/bin/env python3
"""Thin wrapper: `python tools/bench.py ...` == `python -m yolox.tools.bench ...` (installed package)."""

import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run("yolox.tools.bench"))

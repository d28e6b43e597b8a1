#!/usr/bin/env python3
"""Thin wrapper: `python tools/check_data.py ...` == `python -m yolox.tools.check_data ...` (installed package)."""

import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run("yolox.tools.check_data"))

#!/usr/bin/env python3
"""Thin wrapper: `python tools/visualize_attention.py ...` == `python -m yolox.tools.visualize_attention ...` (installed package)."""

import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run("yolox.tools.visualize_attention"))

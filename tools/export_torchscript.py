#!/usr/bin/env python3
"""Thin wrapper: `python tools/export_torchscript.py ...` == `python -m yolox.tools.export_torchscript ...` (installed package)."""

import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run("yolox.tools.export_torchscript"))

#!/usr/bin/env python3
"""Thin wrapper: `python tools/export_openvino.py ...` == `python -m yolox.tools.export_openvino ...`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from yolox.tools.export_openvino import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())

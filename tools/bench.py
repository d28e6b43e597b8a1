"""Attention cost table (params, GFLOPs, latency); see yolox/tools/bench.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from yolox.tools.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

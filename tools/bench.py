"""Attention cost table (params, GFLOPs, latency); see yolox/tools/bench.py."""

import sys

from yolox.tools.bench import main

if __name__ == "__main__":
    sys.exit(main())

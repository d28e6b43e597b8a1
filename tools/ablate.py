"""Attention ablation study (thin wrapper around ``python -m yolox.tools.ablate``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from yolox.tools.ablate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

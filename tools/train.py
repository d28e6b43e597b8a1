"""Train a YOLOX experiment (thin wrapper around ``python -m yolox.tools.train``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from yolox.tools.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

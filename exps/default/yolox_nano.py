"""YOLOX-Nano on COCO.

``-n yolox-nano`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_nano.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_nano.py`` keeps working.
"""

from yolox.exp.default.yolox_nano import Exp

__all__ = ["Exp"]

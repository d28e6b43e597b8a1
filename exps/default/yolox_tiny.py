"""YOLOX-Tiny on COCO.

``-n yolox-tiny`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_tiny.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_tiny.py`` keeps working.
"""

from yolox.exp.default.yolox_tiny import Exp

__all__ = ["Exp"]

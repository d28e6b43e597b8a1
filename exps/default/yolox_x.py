"""YOLOX-X on COCO.

``-n yolox-x`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_x.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_x.py`` keeps working.
"""

from yolox.exp.default.yolox_x import Exp

__all__ = ["Exp"]

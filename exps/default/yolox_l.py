"""YOLOX-L on COCO.

``-n yolox-l`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_l.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_l.py`` keeps working.
"""

from yolox.exp.default.yolox_l import Exp

__all__ = ["Exp"]

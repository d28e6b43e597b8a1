"""YOLOX-S on COCO.

``-n yolox-s`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_s.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_s.py`` keeps working.
"""

from yolox.exp.default.yolox_s import Exp

__all__ = ["Exp"]

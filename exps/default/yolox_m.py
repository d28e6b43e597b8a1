"""YOLOX-M on COCO.

``-n yolox-m`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolox_m.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolox_m.py`` keeps working.
"""

from yolox.exp.default.yolox_m import Exp

__all__ = ["Exp"]

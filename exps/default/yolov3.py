"""YOLOv3 baseline of YOLOX (Darknet-53 + FPN + YOLOX head).

``-n yolov3`` builds exactly this experiment.

The class is written once, in the installed module yolox/exp/default/yolov3.py (copy that file to
start your own); this file re-exports it so ``-f exps/default/yolov3.py`` keeps working.
"""

from yolox.exp.default.yolov3 import Exp

__all__ = ["Exp"]

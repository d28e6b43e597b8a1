"""YOLOX-S on COCO, official YOLOX v0.3.0 values.

``-n yolox-s`` and ``-f exps/default/yolox_s.py`` build this class; ``exps/yolox_s_<attention>.py``
subclass it. Copy this file to start your own: every field not set here keeps the default of
yolox/exp/yolox_base.py (YOLOX-L on COCO: 640x640 input, 300 epochs, mosaic and mixup on).
"""

import os

from yolox.exp.yolox_base import Exp as MyExp


class Exp(MyExp):
    def __init__(self) -> None:
        super().__init__()
        self.model_name = "yolox-s"  # stored in checkpoints; rename it when you change the model
        self.depth = 0.33
        self.width = 0.50
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

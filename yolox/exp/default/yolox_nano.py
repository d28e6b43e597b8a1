"""YOLOX-Nano on COCO, official YOLOX v0.3.0 values.

``-n yolox-nano`` and ``-f exps/default/yolox_nano.py`` build this class;
``exps/yolox_nano_<attention>.py`` subclass it. Copy this file to start your own: every field not
set here keeps the default of yolox/exp/yolox_base.py (YOLOX-L on COCO: 300 epochs).

Official YOLOX passes ``depthwise=True`` inside its own ``get_model``; here it is the field
``depthwise``, so checkpoints and ``model_config()`` describe the network.
"""

import os

from yolox.exp.yolox_base import Exp as MyExp


class Exp(MyExp):
    def __init__(self) -> None:
        super().__init__()
        self.model_name = "yolox-nano"  # stored in checkpoints; rename it when you change the model
        self.depth = 0.33
        self.width = 0.25
        self.depthwise = True  # depthwise-separable convolutions in backbone, neck and head
        self.input_size = (416, 416)
        self.random_size = (10, 20)  # multi-scale training: 320..640 px in steps of 32
        self.mosaic_prob = 0.5
        self.mosaic_scale = (0.5, 1.5)
        self.test_size = (416, 416)
        self.enable_mixup = False
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

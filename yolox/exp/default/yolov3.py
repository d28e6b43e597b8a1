"""YOLOv3 baseline of YOLOX (Darknet-53 + FPN + YOLOX head), official YOLOX v0.3.0 values.

``-n yolov3`` and ``-f exps/default/yolov3.py`` build this class. Copy this file to start your own:
every field not set here keeps the default of yolox/exp/yolox_base.py (640x640 input, 300 epochs,
mosaic and mixup on).

Official YOLOX builds the Darknet neck and the lrelu head inside its own ``get_model``; here they
are the fields ``neck``, ``act`` and ``in_channels``.
"""

import os

from yolox.exp.yolox_base import Exp as MyExp


class Exp(MyExp):
    def __init__(self) -> None:
        super().__init__()
        self.model_name = "yolov3"  # stored in checkpoints; rename it when you change the model
        self.depth = 1.0
        self.width = 1.0
        self.neck = "yolofpn"  # Darknet-53 backbone + YOLOv3 FPN instead of CSPDarknet + PAFPN
        self.act = "lrelu"  # the head's activation (the Darknet neck always uses leaky ReLU)
        self.in_channels = (128, 256, 512)  # FPN output channels fed to the head
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

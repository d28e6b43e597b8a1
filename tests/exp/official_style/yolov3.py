"""An exp written the way official YOLOX v0.3.0's exps/default/yolov3.py is (test fixture)."""

import os

from torch import nn

from yolox.exp import Exp as MyExp


class Exp(MyExp):
    def __init__(self):
        super().__init__()
        self.depth = 1.0
        self.width = 1.0
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

    def get_model(self, sigmoid_init=False):
        if "model" not in self.__dict__ or self.model is None:
            from yolox.models import YOLOFPN, YOLOX, YOLOXHead

            neck = YOLOFPN()
            head = YOLOXHead(self.num_classes, self.width, in_channels=[128, 256, 512], act="lrelu")
            self.model = YOLOX(neck, head)
        for layer in self.model.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.eps = 1e-3
                layer.momentum = 0.03
        self.model.head.initialize_biases(1e-2)
        return self.model

"""The official-style nano exp with the one-line fix: ``attention=self.attention`` (test fixture)."""

import os

from torch import nn

from yolox.exp import Exp as MyExp


class Exp(MyExp):
    def __init__(self):
        super().__init__()
        self.depth = 0.33
        self.width = 0.25
        self.input_size = (416, 416)
        self.random_size = (10, 20)
        self.mosaic_scale = (0.5, 1.5)
        self.test_size = (416, 416)
        self.mosaic_prob = 0.5
        self.enable_mixup = False
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

    def get_model(self, sigmoid_init=False):
        def set_bn(module):
            for layer in module.modules():
                if isinstance(layer, nn.BatchNorm2d):
                    layer.eps = 1e-3
                    layer.momentum = 0.03

        if "model" not in self.__dict__ or self.model is None:
            from yolox.models import YOLOPAFPN, YOLOX, YOLOXHead

            channels = [256, 512, 1024]
            neck = YOLOPAFPN(
                self.depth,
                self.width,
                in_channels=channels,
                act=self.act,
                depthwise=True,
                attention=self.attention,
            )
            head = YOLOXHead(
                self.num_classes, self.width, in_channels=channels, act=self.act, depthwise=True
            )
            self.model = YOLOX(neck, head)

        self.model.apply(set_bn)
        self.model.head.initialize_biases(1e-2)
        return self.model

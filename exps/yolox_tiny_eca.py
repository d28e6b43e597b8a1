"""YOLOX-Tiny plus efficient channel attention ("eca") on dark3, dark4, dark5.

Train: python tools/train.py -f exps/yolox_tiny_eca.py -b 16 -c yolox_tiny.pth
"""

import os

from yolox.exp.default.yolox_tiny import Exp as YOLOXTinyExp


class Exp(YOLOXTinyExp):
    def __init__(self):
        super().__init__()
        self.attention = "eca"
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

"""YOLOX-Nano plus efficient channel attention ("eca") on dark3, dark4, dark5.

Train: python tools/train.py -f exps/yolox_nano_eca.py -b 16 -c yolox_nano.pth
"""

import os

from yolox.exp.default.yolox_nano import Exp as YOLOXNanoExp


class Exp(YOLOXNanoExp):
    def __init__(self):
        super().__init__()
        self.attention = "eca"
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

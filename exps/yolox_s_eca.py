"""YOLOX-S plus efficient channel attention ("eca") on dark3, dark4, dark5.

Train: python tools/train.py -f exps/yolox_s_eca.py -b 16 -c yolox_s.pth
"""

import os

from yolox.exp.default.yolox_s import Exp as YOLOXSExp


class Exp(YOLOXSExp):
    def __init__(self):
        super().__init__()
        self.attention = "eca"
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

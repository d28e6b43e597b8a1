"""YOLOX-Nano plus squeeze-and-excitation ("se") on dark3, dark4, dark5.

Train: python tools/train.py -f exps/yolox_nano_se.py -b 16 -c yolox_nano.pth
"""

import os

from yolox.exp.default import ZOO_EXPS


class Exp(ZOO_EXPS["yolox-nano"]):  # exps/default/yolox_nano.py, field for field (tested)
    def __init__(self):
        super().__init__()
        self.attention = "se"
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

"""YOLOX-S with CAM attention on the three backbone outputs (dark3, dark4, dark5).

Train: python tools/train.py -f exps/yolox_s_cam.py -b 16 -c yolox_s.pth
"""

import os

from yolox.exp.default import ZOO_EXPS


class Exp(ZOO_EXPS["yolox-s"]):
    def __init__(self) -> None:
        super().__init__()
        self.attention = "cam"
        self.exp_name = os.path.splitext(os.path.basename(__file__))[0]

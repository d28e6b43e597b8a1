"""YOLOX-Nano with coordinate attention on dark3-5, on the built-in generated dataset."""

import os

from yolox.exp.synthetic import SyntheticExp


class Exp(SyntheticExp):
    def __init__(self) -> None:
        super().__init__()
        self.attention = "cam"
        self.exp_name = os.path.splitext(os.path.basename(__file__))[0]

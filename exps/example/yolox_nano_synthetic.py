"""YOLOX-Nano on the built-in generated dataset (COCO layout): the README's quick start."""

import os

from yolox.exp.synthetic import SyntheticExp


class Exp(SyntheticExp):
    def __init__(self) -> None:
        super().__init__()
        self.exp_name = os.path.splitext(os.path.basename(__file__))[0]

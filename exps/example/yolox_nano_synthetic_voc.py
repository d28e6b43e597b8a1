"""YOLOX-Nano on the built-in generated dataset written in VOC layout (VOC evaluator, area AP)."""

import os

from yolox.exp.synthetic import SyntheticExp


class Exp(SyntheticExp):
    synthetic_format = "voc"

    def __init__(self) -> None:
        super().__init__()
        self.exp_name = os.path.splitext(os.path.basename(__file__))[0]

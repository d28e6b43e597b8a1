"""Exp for the built-in generated dataset: shapes on textured backgrounds, CPU-sized.

The dataset (3 classes: circle, square, triangle) is written under ``datasets/`` on first use,
so these exps train and evaluate offline in a few minutes on a 2-core CPU (the CPU recipe of
:mod:`yolox.exp.cpu_recipe`).
"""

from __future__ import annotations

import os

from yolox.data.datasets.synthetic import SYNTHETIC_CLASSES, ensure_synthetic_dataset

from .cpu_recipe import CPURecipeExp

__all__ = ["SyntheticExp"]


class SyntheticExp(CPURecipeExp):
    #: "coco" or "voc": which layout the generated dataset is written in
    synthetic_format = "coco"

    def __init__(self) -> None:
        super().__init__()
        self.num_classes = len(SYNTHETIC_CLASSES)
        self.class_names = tuple(SYNTHETIC_CLASSES)
        self.dataset_format = self.synthetic_format
        self.data_dir = os.path.join("datasets", f"synthetic_{self.synthetic_format}")
        self.synthetic_images = (240, 60)  # train, val
        self.train_sets = ("train",)
        self.val_sets = ("val",)
        # the CPU recipe, plus a little rotation and shear for the generated shapes
        self.degrees = 5.0
        self.shear = 1.0
        self.eval_interval = 5
        self.print_interval = 5
        self.test_conf = 0.01
        self.seed = 0

    def prepare_data(self) -> None:
        num_train, num_val = self.synthetic_images
        ensure_synthetic_dataset(
            self.data_dir,
            fmt=self.synthetic_format,
            num_train=num_train,
            num_val=num_val,
            img_size=256,
            seed=0,
        )

"""Exp for the built-in generated dataset: shapes on textured backgrounds, CPU-sized.

The dataset (3 classes: circle, square, triangle) is written under ``datasets/`` on first use,
so these exps train and evaluate offline in a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import os

from yolox.data.datasets.synthetic import SYNTHETIC_CLASSES, ensure_synthetic_dataset

from .default import ZOO_EXPS

__all__ = ["SyntheticExp"]


class SyntheticExp(ZOO_EXPS["yolox-nano"]):
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
        self.voc_metric = "voc10"

        self.input_size = (256, 256)
        self.test_size = (256, 256)
        self.random_size = (6, 10)  # 192..320 px multi-scale
        self.mosaic_scale = (0.5, 1.5)
        self.mosaic_prob = 0.5
        self.enable_mixup = False
        self.degrees = 5.0
        self.shear = 1.0

        self.max_epoch = 20
        self.warmup_epochs = 2
        self.no_aug_epochs = 4
        self.basic_lr_per_img = 0.08 / 64.0  # lr 0.02 at batch 16: learns in ~300 iterations
        self.eval_interval = 5
        self.print_interval = 5
        self.data_num_workers = 0  # faster than worker processes on 2 cores
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

"""The CPU-sized training recipe: YOLOX-Nano from scratch in minutes on a 2-core CPU.

256x256 input (multi-scale 192-320), 20 epochs (2 warm-up, the last 4 without mosaic),
lr 0.02 at batch 16, mosaic 0.5, no mixup, no loader worker processes. Used by the generated
shapes dataset (:mod:`yolox.exp.synthetic`) and by the published attention ablations
(``exps/ablation/``); written here once so the two cannot drift apart.
"""

from __future__ import annotations

from .default.yolox_nano import Exp as YOLOXNanoExp

__all__ = ["CPURecipeExp"]


class CPURecipeExp(YOLOXNanoExp):
    def __init__(self) -> None:
        super().__init__()
        self.voc_metric = "voc10"  # area AP (VOC2010+), for VOC-layout datasets

        self.input_size = (256, 256)
        self.test_size = (256, 256)
        self.random_size = (6, 10)  # 192..320 px multi-scale
        self.mosaic_scale = (0.5, 1.5)
        self.mosaic_prob = 0.5
        self.enable_mixup = False

        self.max_epoch = 20
        self.warmup_epochs = 2
        self.no_aug_epochs = 4
        self.basic_lr_per_img = 0.08 / 64.0  # lr 0.02 at batch 16: learns in ~300 iterations
        self.data_num_workers = 0  # faster than worker processes on 2 cores

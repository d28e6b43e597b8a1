"""The CPU-sized recipe shared by the published attention ablations (benchmarks/ablation_*).

YOLOX-Nano from scratch at 256x256 (multi-scale 192-320), batch 16, 20 epochs (2 warm-up, the
last 4 without mosaic), lr 0.02, mosaic 0.5, no mixup, evaluated on the final EMA weights.
Datasets come from ``$YOLOX_TEST_DATA`` (default ``../shared/datasets``).
"""

from __future__ import annotations

import os

from yolox.exp.default import ZOO_EXPS


def shared_dataset(name: str) -> str:
    return os.path.join(
        os.environ.get("YOLOX_TEST_DATA", os.path.join("..", "shared", "datasets")), name
    )


class CPURecipeExp(ZOO_EXPS["yolox-nano"]):
    def __init__(self) -> None:
        super().__init__()
        self.dataset_format = "voc"
        self.voc_metric = "voc10"
        self.input_size = (256, 256)
        self.test_size = (256, 256)
        self.random_size = (6, 10)
        self.mosaic_scale = (0.5, 1.5)
        self.mosaic_prob = 0.5
        self.enable_mixup = False
        self.max_epoch = 20
        self.warmup_epochs = 2
        self.no_aug_epochs = 4
        self.basic_lr_per_img = 0.08 / 64.0
        self.eval_interval = 10
        self.print_interval = 10
        self.data_num_workers = 0
        self.save_history_ckpt = False

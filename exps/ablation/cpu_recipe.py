"""The published attention ablations (benchmarks/ablation_*): the package's CPU recipe on VOC data.

The recipe itself (YOLOX-Nano from scratch at 256x256, batch 16, 20 epochs, lr 0.02, mosaic 0.5,
no mixup) is yolox/exp/cpu_recipe.py; runs are scored on their final EMA weights. Datasets come
from ``$YOLOX_TEST_DATA`` (default ``../shared/datasets``).
"""

from __future__ import annotations

import os

from yolox.exp.cpu_recipe import CPURecipeExp as PackageCPURecipe


def shared_dataset(name: str) -> str:
    return os.path.join(
        os.environ.get("YOLOX_TEST_DATA", os.path.join("..", "shared", "datasets")), name
    )


class CPURecipeExp(PackageCPURecipe):
    def __init__(self) -> None:
        super().__init__()
        self.dataset_format = "voc"
        self.eval_interval = 10
        self.print_interval = 10
        self.save_history_ckpt = False
        # the published studies ran in fp32: pinned, so a rerun on a bf16 CPU repeats them
        self.precision = "fp32"

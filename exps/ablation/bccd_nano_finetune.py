"""Fine-tuning recipe: 10 more epochs of BCCD on top of a trained nano, at a quarter of the lr.

The study (benchmarks/ablation_bccd_finetune) starts every run, the baseline included, from the
final weights of the BCCD study's ``none_seed0`` run (``tools/ablate.py -c``), and adds each
attention with ``init="identity"``, so every variant starts from exactly the baseline's
outputs. This is how a user would try attention on a model they already have.
"""

from bccd_nano import Exp as BCCDExp


class Exp(BCCDExp):
    def __init__(self) -> None:
        super().__init__()
        self.max_epoch = 10
        self.warmup_epochs = 1
        self.no_aug_epochs = 2
        self.basic_lr_per_img = 0.02 / 64.0
        self.eval_interval = 5
        self.exp_name = "bccd_nano_finetune"

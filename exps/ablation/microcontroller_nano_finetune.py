"""Fine-tuning recipe: 20 more epochs of microcontroller on top of a trained nano, at a quarter of the lr.

The study (benchmarks/ablation_microcontroller_finetune) starts every run, the baseline
included, from the final weights of the microcontroller study's ``none_seed0`` run
(``tools/ablate.py -c``), and adds each attention with ``init="identity"``, so every variant
starts from exactly the baseline's outputs. 20 epochs are 160 iterations (8 per epoch).
"""

from microcontroller_nano import Exp as MicrocontrollerExp


class Exp(MicrocontrollerExp):
    def __init__(self) -> None:
        super().__init__()
        self.max_epoch = 20
        self.warmup_epochs = 1
        self.no_aug_epochs = 4
        self.basic_lr_per_img = 0.02 / 64.0
        self.eval_interval = 10
        self.exp_name = "microcontroller_nano_finetune"

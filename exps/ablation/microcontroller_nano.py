"""microcontroller (4 boards) with the shared CPU recipe, but 60 epochs; train on train, test on test.

117 training images give only 8 iterations per epoch: after 20 epochs every variant is still at
AP ~0, so this dataset trains 3x longer (480 iterations, like BCCD's 260 plus margin).
"""

from cpu_recipe import CPURecipeExp, shared_dataset


class Exp(CPURecipeExp):
    def __init__(self) -> None:
        super().__init__()
        self.data_dir = shared_dataset("microcontroller")
        self.class_names = ("Arduino_Nano", "ESP8266", "Heltec_ESP32_Lora", "Raspberry_Pi_3")
        self.num_classes = 4
        self.train_sets = ("train",)
        self.val_sets = ("test",)
        self.max_epoch = 60
        self.warmup_epochs = 3
        self.no_aug_epochs = 10
        self.eval_interval = 20
        self.exp_name = "microcontroller_nano"

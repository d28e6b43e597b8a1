"""microcontroller (4 boards) with the shared CPU recipe; train on train, test on test."""

from cpu_recipe import CPURecipeExp, shared_dataset


class Exp(CPURecipeExp):
    def __init__(self) -> None:
        super().__init__()
        self.data_dir = shared_dataset("microcontroller")
        self.class_names = ("Arduino_Nano", "ESP8266", "Heltec_ESP32_Lora", "Raspberry_Pi_3")
        self.num_classes = 4
        self.train_sets = ("train",)
        self.val_sets = ("test",)
        self.exp_name = "microcontroller_nano"

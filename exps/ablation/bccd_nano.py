"""BCCD (blood cells: RBC, WBC, Platelets) with the shared CPU recipe; train on train, test on val."""

from cpu_recipe import CPURecipeExp, shared_dataset


class Exp(CPURecipeExp):
    def __init__(self) -> None:
        super().__init__()
        self.data_dir = shared_dataset("BCCD")
        self.class_names = ("RBC", "WBC", "Platelets")
        self.num_classes = 3
        self.train_sets = ("train",)
        self.val_sets = ("val",)
        self.exp_name = "bccd_nano"

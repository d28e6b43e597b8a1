"""YOLOX-Nano on BCCD (blood cells, VOC layout, any root): a real small dataset.

python tools/train.py -f exps/example/yolox_nano_bccd.py -c yolox_nano.pth data_dir ../shared/datasets/BCCD
"""

import os

from yolox.exp.default.yolox_nano import Exp as YOLOXNanoExp


class Exp(YOLOXNanoExp):
    def __init__(self) -> None:
        super().__init__()
        self.dataset_format = "voc"
        self.data_dir = os.environ.get("BCCD_DIR", os.path.join("..", "shared", "datasets", "BCCD"))
        self.train_sets = ("train",)
        self.val_sets = ("val",)
        self.voc_metric = "voc10"
        self.class_names = ("RBC", "WBC", "Platelets")
        self.num_classes = 3
        self.input_size = (416, 416)
        self.test_size = (416, 416)
        self.max_epoch = 30
        self.no_aug_epochs = 5
        self.warmup_epochs = 2
        self.eval_interval = 5
        self.data_num_workers = 0
        self.exp_name = os.path.splitext(os.path.basename(__file__))[0]

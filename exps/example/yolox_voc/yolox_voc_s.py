"""YOLOX-S on PASCAL VOC 2007+2012, written the way official YOLOX's VOC exp is written.

Data: ``$YOLOX_DATADIR/VOCdevkit/VOC2007`` and ``VOC2012`` (default ``./datasets``). Like the
official file it sets ``num_classes`` but no class names: they are read from the XML files,
sorted, which for VOC is the official 20-class order (the log says so; checkpoints store them).

    python tools/train.py -f exps/example/yolox_voc/yolox_voc_s.py -d 1 -b 64 --fp16 -c yolox_s.pth
"""

import os

from yolox.data import get_yolox_datadir
from yolox.exp import Exp as MyExp


class Exp(MyExp):
    def __init__(self):
        super().__init__()
        self.num_classes = 20
        self.depth = 0.33
        self.width = 0.50
        self.warmup_epochs = 1
        self.mosaic_prob = 1.0
        self.mixup_prob = 1.0
        self.flip_prob = 0.5
        self.hsv_prob = 1.0
        self.exp_name = os.path.split(os.path.realpath(__file__))[1].split(".")[0]

    def get_dataset(self, cache: bool, cache_type: str = "ram"):
        from yolox.data import TrainTransform, VOCDetection

        return VOCDetection(
            data_dir=os.path.join(get_yolox_datadir(), "VOCdevkit"),
            image_sets=[("2007", "trainval"), ("2012", "trainval")],
            img_size=self.input_size,
            preproc=TrainTransform(max_labels=50, flip_prob=self.flip_prob, hsv_prob=self.hsv_prob),
            cache=cache,
            cache_type=cache_type,
        )

    def get_eval_dataset(self, **kwargs):
        from yolox.data import ValTransform, VOCDetection

        return VOCDetection(
            data_dir=os.path.join(get_yolox_datadir(), "VOCdevkit"),
            image_sets=[("2007", "test")],
            img_size=self.test_size,
            preproc=ValTransform(legacy=kwargs.get("legacy", False)),
        )

    def get_evaluator(self, batch_size, is_distributed, testdev=False, legacy=False):
        from yolox.evaluators import VOCEvaluator

        return VOCEvaluator(
            dataloader=self.get_eval_loader(
                batch_size, is_distributed, testdev=testdev, legacy=legacy
            ),
            img_size=self.test_size,
            confthre=self.test_conf,
            nmsthre=self.nmsthre,
            num_classes=self.num_classes,
        )

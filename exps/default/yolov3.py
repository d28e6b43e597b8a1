"""Official YOLOv3 baseline (Darknet-53 + FPN + YOLOX head); same as `get_exp(None, "yolov3")`."""

from yolox.exp.default import ZOO_EXPS

Exp = ZOO_EXPS["yolov3"]

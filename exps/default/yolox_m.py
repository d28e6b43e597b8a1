"""Official YOLOX-M (same fields as `get_exp(None, "yolox-m")`); copy this file to customise it."""

from yolox.exp.default import ZOO_EXPS

Exp = ZOO_EXPS["yolox-m"]

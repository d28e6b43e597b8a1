"""Official YOLOX-L (same fields as `get_exp(None, "yolox-l")`); copy this file to customise it."""

from yolox.exp.default import ZOO_EXPS

Exp = ZOO_EXPS["yolox-l"]

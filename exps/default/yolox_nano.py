"""Official YOLOX-Nano (same fields as `get_exp(None, "yolox-nano")`); copy this file to customise it."""

from yolox.exp.default import ZOO_EXPS

Exp = ZOO_EXPS["yolox-nano"]

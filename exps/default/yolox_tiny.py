"""Official YOLOX-Tiny (same fields as `get_exp(None, "yolox-tiny")`); copy this file to customise it."""

from yolox.exp.default import ZOO_EXPS

Exp = ZOO_EXPS["yolox-tiny"]

"""torch.hub entry points, as official YOLOX publishes them.

    model = torch.hub.load("<this checkout>", "yolox_s", source="local", pretrained=True)

Weights come from the official release through the local cache (``$YOLOX_HOME``, default
``~/.cache/yolox``; ``$YOLOX_WEIGHTS_URL`` names a mirror or a folder): see
yolox/models/pretrained.py. ``yolox_custom(ckpt_path=..., exp_path=...)`` builds an exp file's
model.
"""

dependencies = ["torch"]

from yolox.models import (  # noqa: E402,F401
    yolov3,
    yolox_custom,
    yolox_l,
    yolox_m,
    yolox_nano,
    yolox_s,
    yolox_tiny,
    yolox_x,
)

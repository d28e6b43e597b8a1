"""The official release weights (moved to yolox.models.pretrained, which the hub builders use too)."""

from yolox.models.pretrained import (  # noqa: F401
    PRETRAINED_FILES,
    PRETRAINED_SHA256,
    RELEASE_URL,
    WeightsMismatchError,
    pretrained_name,
    pretrained_url,
    pretrained_weights,
    resolve_pretrained,
    verify_pretrained,
)
from yolox.models.pretrained import __all__ as __all__  # noqa: F401

"""The official model zoo as Exp classes: ``get_exp(None, "yolox-s")`` resolves names here."""

from __future__ import annotations

from typing import Dict, Type

from yolox.models.build import MODEL_ZOO

from ..yolox_base import Exp as BaseYOLOXExp

__all__ = ["ZOO_EXPS", "zoo_exp_class"]

# Official per-model training recipes beyond depth/width (YOLOX v0.3.0 exps).
_SMALL_MODEL_RECIPE = dict(
    input_size=(416, 416),
    random_size=(10, 20),
    mosaic_scale=(0.5, 1.5),
    test_size=(416, 416),
    enable_mixup=False,
)
_RECIPES: Dict[str, Dict] = {
    "yolox-nano": dict(_SMALL_MODEL_RECIPE, mosaic_prob=0.5),
    "yolox-tiny": dict(_SMALL_MODEL_RECIPE),
}


def zoo_exp_class(name: str) -> Type[BaseYOLOXExp]:
    """An Exp subclass with the official fields of zoo model ``name`` (e.g. ``yolox-s``)."""
    if name not in MODEL_ZOO:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODEL_ZOO)}")
    fields = dict(MODEL_ZOO[name], **_RECIPES.get(name, {}))
    exp_name = name.replace("-", "_")

    def __init__(self) -> None:
        BaseYOLOXExp.__init__(self)
        self.model_name = name
        for key, value in fields.items():
            setattr(self, key, value)
        self.exp_name = exp_name

    return type(f"Exp_{exp_name}", (BaseYOLOXExp,), {"__init__": __init__, "__module__": __name__})


ZOO_EXPS: Dict[str, Type[BaseYOLOXExp]] = {name: zoo_exp_class(name) for name in MODEL_ZOO}

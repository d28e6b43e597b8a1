"""Experiments: the one place a run is composed."""

from .base_exp import BaseExp
from .build import ExpError, get_exp, get_exp_by_file, get_exp_by_name
from .yolox_base import Exp, check_exp_value, get_checked_model

__all__ = [
    "BaseExp",
    "Exp",
    "check_exp_value",
    "ExpError",
    "get_checked_model",
    "get_exp",
    "get_exp_by_file",
    "get_exp_by_name",
]

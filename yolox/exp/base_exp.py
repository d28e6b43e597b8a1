"""The experiment interface: one object composes a run (model, data, optimiser, evaluation)."""

from __future__ import annotations

import ast
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Sequence

from tabulate import tabulate
from torch import nn

__all__ = ["BaseExp", "parse_opt_value"]


def parse_opt_value(text: str, current: Any) -> Any:
    """Turn a command-line string into a value of the field's type.

    Literals (numbers, tuples, lists, dicts, None, True/False) are parsed with
    ``ast.literal_eval``; other text stays a string (so ``attention cbam`` works).
    """
    if not isinstance(text, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        elif text.lower() == "none":
            value = None
        else:
            value = text
    if current is None or value is None:
        return value
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected True or False, got {text!r}")
    if (
        isinstance(current, (int, float))
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return type(current)(value)
    if isinstance(current, (tuple, list)) and isinstance(value, (tuple, list)):
        return type(current)(value)
    if isinstance(current, str) and isinstance(value, (int, float)):
        return text  # e.g. ``exp_name 2024``: a name that happens to look like a number
    return value


class BaseExp(metaclass=ABCMeta):
    """Fields are plain attributes; ``merge`` overrides them from ``key value`` pairs."""

    def __init__(self) -> None:
        self.seed = None
        self.output_dir = "./YOLOX_outputs"
        self.print_interval = 100
        self.eval_interval = 10
        self.dataset = None

    @abstractmethod
    def get_model(self) -> nn.Module: ...

    @abstractmethod
    def get_dataset(self, cache: bool = False, cache_type: str = "ram"): ...

    @abstractmethod
    def get_data_loader(
        self, batch_size: int, is_distributed: bool, no_aug: bool = False, cache_img=None
    ): ...

    @abstractmethod
    def random_resize(self, data_loader, epoch: int, rank: int, is_distributed: bool): ...

    @abstractmethod
    def get_optimizer(self, batch_size: int): ...

    @abstractmethod
    def get_lr_scheduler(self, lr: float, iters_per_epoch: int, **kwargs): ...

    @abstractmethod
    def get_evaluator(
        self, batch_size: int, is_distributed: bool, testdev: bool = False, legacy: bool = False
    ): ...

    @abstractmethod
    def eval(
        self,
        model,
        evaluator,
        is_distributed: bool,
        half: bool = False,
        return_outputs: bool = False,
    ): ...

    def fields(self) -> Dict[str, Any]:
        """Public configuration fields (no cached objects such as the model or optimizer)."""
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_")
            and not isinstance(v, nn.Module)
            and k not in ("dataset", "optimizer")
        }

    def __repr__(self) -> str:
        rows = [(k, repr(v)) for k, v in sorted(self.fields().items())]
        return tabulate(rows, headers=["keys", "values"], tablefmt="fancy_grid")

    def merge(self, opts: Sequence[str]) -> None:
        """Apply ``["key", "value", ...]`` overrides; unknown keys are an error, not a silent no-op."""
        opts = list(opts or [])
        if len(opts) % 2:
            raise ValueError(f"opts must be key value pairs, got an odd number of items: {opts}")
        known = self.fields()
        errors: List[str] = []
        for key, text in zip(opts[0::2], opts[1::2]):
            if key not in known:
                errors.append(f"unknown field {key!r}")
                continue
            try:
                setattr(self, key, parse_opt_value(text, getattr(self, key)))
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
        if errors:
            raise ValueError(
                "cannot merge options: " + "; ".join(errors) + f". Known fields: {sorted(known)}"
            )

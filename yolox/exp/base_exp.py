"""The experiment interface: one object composes a run (model, data, optimiser, evaluation)."""

from __future__ import annotations

import ast
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tabulate import tabulate
from torch import nn

from yolox.utils.errors import UserError
from yolox.utils.values import Rule, check_all, integer, optional, problem_with

__all__ = ["BaseExp", "LAZY_ATTRIBUTES", "parse_opt_value"]

# Objects an exp builds on first use and caches on itself. They are declared on the class (value
# None), never assigned in ``__init__``: official YOLOX exps guard their own builders with
# ``if "model" not in self.__dict__:`` (``"optimizer"`` likewise), which an instance attribute set
# to None would defeat. Reading one before it is built gives None.
LAZY_ATTRIBUTES = ("model", "optimizer", "lr_scheduler", "evaluator")


def parse_opt_value(text: str, current: Any, string_tuple: bool = False) -> Any:
    """Turn a command-line string into a value of the field's type.

    Literals (numbers, tuples, lists, dicts, None, True/False) are parsed with
    ``ast.literal_eval``; other text stays a string (so ``attention cbam`` works). A bare
    string for a tuple field (or a ``string_tuple`` field whose value is None now) is a
    one-element tuple: ``val_sets valid`` is ``("valid",)``, never the characters of "valid".
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
    if isinstance(value, str) and (string_tuple or isinstance(current, (tuple, list))):
        return (value,) if not isinstance(current, list) else [value]
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
        if isinstance(current, int) and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {text!r}")
        return type(current)(value)
    if isinstance(current, (tuple, list)) and isinstance(value, (tuple, list)):
        return type(current)(value)
    if isinstance(current, str) and isinstance(value, (int, float)):
        return text  # e.g. ``exp_name 2024``: a name that happens to look like a number
    return value


class BaseExp(metaclass=ABCMeta):
    """Fields are plain attributes; ``merge`` overrides them from ``key value`` pairs.

    Every field any code reads is set in ``__init__`` (so ``merge``, the command line and the
    printed table know it); ``field_rules`` says which types and ranges each field accepts. The
    objects in :data:`LAZY_ATTRIBUTES` are declared below instead (see there).
    """

    model: Optional[nn.Module] = None
    optimizer: Any = None
    lr_scheduler: Any = None
    evaluator: Any = None

    #: tuple-of-strings fields that may be None now: ``merge`` reads a bare string as a
    #: one-element tuple for them too (``class_names cat``)
    _string_tuple_fields: Tuple[str, ...] = ("class_names", "train_sets", "val_sets")

    def __init__(self) -> None:
        self.exp_name = None  # the run's folder under output_dir (get_exp: the file's name)
        self.seed = None  # None: not seeded (data order and augmentation differ run to run)
        self.output_dir = "./YOLOX_outputs"
        self.print_interval = 100
        self.eval_interval = 10
        # also evaluate in each of the last N epochs (ablation studies average them: less noise)
        self.eval_last_epochs = 0
        # cached, not configuration (left out of fields()); official sets it here too
        self.dataset = None

    def field_rules(self) -> Dict[str, Rule]:
        """Type and range of the fields that have one (see yolox.utils.values)."""
        return {
            "seed": optional(integer(0)),
            "print_interval": integer(1),
            "eval_interval": integer(1),
            "eval_last_epochs": integer(0),
        }

    def check(self) -> None:
        """Fail before any work starts on values a run cannot use (subclasses add more)."""
        self.validate()

    def validate(self) -> None:
        """Every field against :meth:`field_rules`; one UserError listing all problems."""
        rules = self.field_rules()
        check_all([(k, getattr(self, k), rules[k]) for k in sorted(rules) if hasattr(self, k)])

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
            and k != "dataset"
            and k not in LAZY_ATTRIBUTES
        }

    def forget(self, name: str) -> None:
        """Drop a cached lazy object so the next ``get_*`` builds it again (official guards included)."""
        if name not in LAZY_ATTRIBUTES:
            raise ValueError(f"{name!r} is not one of the lazily built {LAZY_ATTRIBUTES}")
        self.__dict__.pop(name, None)

    def __repr__(self) -> str:
        rows = [(k, repr(v)) for k, v in sorted(self.fields().items())]
        return tabulate(rows, headers=["keys", "values"], tablefmt="fancy_grid")

    def merge(self, opts: Sequence[str]) -> None:
        """Apply ``["key", "value", ...]`` overrides; unknown keys are an error, not a silent no-op."""
        opts = list(opts or [])
        if len(opts) % 2:
            raise UserError(
                f"options must be KEY VALUE pairs, got an odd number of items: {opts}"
                + _flag_hint(opts)
            )
        known = self.fields()
        rules = self.field_rules()
        errors: List[str] = []
        unknown: List[str] = []
        for key, text in zip(opts[0::2], opts[1::2]):
            if key not in known:
                unknown.append(key)
                continue
            try:
                value = parse_opt_value(text, getattr(self, key), key in self._string_tuple_fields)
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
                continue
            problem = problem_with(key, value, rules[key]) if key in rules else None
            if problem:
                errors.append(problem)
            else:
                setattr(self, key, value)
        if unknown:
            names = ", ".join(f"unknown field {key!r}" for key in unknown)
            errors.append(f"{names}{_flag_hint(unknown)}; known fields: {', '.join(sorted(known))}")
        if errors:
            raise UserError("cannot merge options: " + "; ".join(errors))


def _flag_hint(items: Sequence[str]) -> str:
    """A hint when what looks like a flag ended up among the KEY VALUE overrides."""
    flags = [str(item) for item in items if str(item).startswith("-")]
    if not flags:
        return ""
    return f" ({flags[0]} is a flag: put flags before the KEY VALUE overrides)"

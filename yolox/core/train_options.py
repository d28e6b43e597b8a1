"""What a training run is asked to do beyond its exp: the Trainer's declared options.

``tools/train.py`` fills them from its command line (:meth:`TrainOptions.from_namespace`, the one
conversion), the ablation runner builds them directly. Each option is declared once here, with
its type, default and check; a bad value is a one-line :class:`UserError` naming the flag.
Official code calls ``exp.get_trainer(args)`` with an argparse Namespace: the Trainer converts
such a Namespace once, at its entry, with the same function.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from yolox.utils.cli_args import LOGGERS
from yolox.utils.device import DEVICE_CHOICES, check_device_name
from yolox.utils.errors import UserError
from yolox.utils.values import Rule, check_value, integer, number, one_of, optional

__all__ = ["LOGGERS", "TrainOptions"]


def _boolean(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else "True or False"


def _text(value: Any) -> Optional[str]:
    return None if isinstance(value, str) else "a string"


def _words(value: Any) -> Optional[str]:
    ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    return None if ok else "a list of strings (KEY VALUE ...)"


def _device(value: Any) -> Optional[str]:
    try:
        check_device_name(value if isinstance(value, str) else "")
    except UserError:
        return DEVICE_CHOICES
    return None


def _logger_name(value: Any) -> Optional[str]:
    if isinstance(value, str) and value.lower() in LOGGERS:
        return None
    return "tensorboard, wandb or mlflow"


def _option(default: Any, flag: str, rule: Rule) -> Any:
    """A dataclass field that knows its command-line flag and its check."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"flag": flag, "rule": rule})
    return field(default=default, metadata={"flag": flag, "rule": rule})


@dataclass
class TrainOptions:
    """The options of one training run (names are the train parser's ``dest`` names)."""

    # what to train and where it goes
    exp_file: Optional[str] = _option(None, "-f/--exp_file", optional(_text))
    name: Optional[str] = _option(None, "-n/--name", optional(_text))
    experiment_name: Optional[str] = _option(None, "-expn/--experiment-name", optional(_text))
    opts: List[str] = _option([], "KEY VALUE overrides", _words)
    # how it runs
    batch_size: int = _option(64, "-b/--batch-size", integer(1))
    device: Optional[str] = _option("auto", "--device", optional(_device))  # None: auto too
    fp16: bool = _option(False, "--fp16", _boolean)
    precision: Optional[str] = _option(
        None, "--precision", optional(one_of("auto", "fp32", "bf16"))
    )
    cache: Optional[str] = _option(None, "--cache", optional(one_of("ram", "disk")))
    occupy: bool = _option(False, "-o/--occupy", _boolean)
    logger: str = _option("tensorboard", "-l/--logger", _logger_name)
    sync_bn: bool = _option(False, "--sync-bn", _boolean)
    # where it starts and what it keeps
    ckpt: Optional[str] = _option(None, "-c/--ckpt", optional(_text))
    resume: bool = _option(False, "--resume", _boolean)
    start_epoch: Optional[int] = _option(None, "-e/--start_epoch", optional(integer(1)))
    strict: bool = _option(False, "--strict", _boolean)
    save_interval: int = _option(0, "--save-interval", integer(0))
    # processes
    devices: Optional[int] = _option(None, "-d/--devices", optional(integer(1)))
    num_machines: int = _option(1, "--num_machines", integer(1))
    machine_rank: int = _option(0, "--machine_rank", integer(0))
    dist_backend: str = _option("auto", "--dist-backend", _text)
    dist_url: Optional[str] = _option(None, "--dist-url", optional(_text))
    dist_timeout: float = _option(1800.0, "--dist-timeout", number(0, above=True))
    local_rank: Optional[int] = _option(None, "--local_rank", optional(integer(0)))

    def __post_init__(self) -> None:
        for option in dataclasses.fields(self):
            check_value(
                option.metadata["flag"], getattr(self, option.name), option.metadata["rule"]
            )
        self.opts = list(self.opts)
        if self.machine_rank >= self.num_machines:
            raise UserError(
                f"--machine_rank {self.machine_rank} must be below --num_machines "
                f"{self.num_machines} (machines are numbered from 0)"
            )

    @classmethod
    def defaults(cls) -> Dict[str, Any]:
        """Every option's declared default, by name: the train parser's defaults come from here."""
        return dataclasses.asdict(cls())

    @classmethod
    def from_namespace(cls, namespace: Any) -> TrainOptions:
        """The options of the train parser's namespace (or any object with these attributes).

        An attribute that is ``None`` was not given and takes the declared default; an attribute
        that is no option is an error, so a misspelt or foreign option is never silently ignored.
        """
        if isinstance(namespace, cls):
            return namespace
        try:
            given = dict(vars(namespace))
        except TypeError:
            raise UserError(
                f"training options must be TrainOptions or an argparse Namespace, "
                f"got {type(namespace).__name__}"
            ) from None
        known = {option.name for option in dataclasses.fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise UserError(
                f"unknown training option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))} (the options are: {', '.join(sorted(known))})"
            )
        return cls(**{key: value for key, value in given.items() if value is not None})

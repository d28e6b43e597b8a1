"""Learning-rate schedules of YOLOX, evaluated per iteration (``update_lr(iters)``).

The trainer asks for the rate of every iteration instead of stepping a torch scheduler, so a
resumed run gets exactly the rate it would have had without the interruption.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import partial
from typing import Callable, Sequence

from .errors import UserError

__all__ = [
    "LRScheduler",
    "cos_lr",
    "warm_cos_lr",
    "yolox_warm_cos_lr",
    "yolox_semi_warm_cos_lr",
    "multistep_lr",
]


def cos_lr(lr: float, total_iters: int, iters: float) -> float:
    """Plain cosine decay from ``lr`` to 0 over ``total_iters``."""
    return lr * 0.5 * (1.0 + math.cos(math.pi * iters / total_iters))


def warm_cos_lr(
    lr: float, total_iters: int, warmup_total_iters: int, warmup_lr_start: float, iters: float
) -> float:
    """Linear warm-up from ``warmup_lr_start`` to ``lr``, then cosine to 0."""
    if iters <= warmup_total_iters:
        return (lr - warmup_lr_start) * iters / float(warmup_total_iters) + warmup_lr_start
    progress = (iters - warmup_total_iters) / (total_iters - warmup_total_iters)
    return lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def _quadratic_warmup(
    lr: float, warmup_lr_start: float, warmup_total_iters: int, iters: float
) -> float:
    return (lr - warmup_lr_start) * (iters / float(warmup_total_iters)) ** 2 + warmup_lr_start


def yolox_warm_cos_lr(
    lr: float,
    min_lr_ratio: float,
    total_iters: int,
    warmup_total_iters: int,
    warmup_lr_start: float,
    no_aug_iters: int,
    iters: float,
) -> float:
    """Quadratic warm-up, cosine down to ``min_lr_ratio * lr``, then flat for the no-aug tail."""
    min_lr = lr * min_lr_ratio
    if iters <= warmup_total_iters:
        return _quadratic_warmup(lr, warmup_lr_start, warmup_total_iters, iters)
    if iters >= total_iters - no_aug_iters:
        return min_lr
    span = total_iters - warmup_total_iters - no_aug_iters
    return min_lr + 0.5 * (lr - min_lr) * (
        1.0 + math.cos(math.pi * (iters - warmup_total_iters) / span)
    )


def yolox_semi_warm_cos_lr(
    lr: float,
    min_lr_ratio: float,
    warmup_lr_start: float,
    total_iters: int,
    normal_iters: int,
    no_aug_iters: int,
    warmup_total_iters: int,
    semi_iters: int,
    iters_per_epoch: int,
    iters_per_epoch_semi: int,
    iters: float,
) -> float:
    """YOLOX schedule for semi-supervised runs whose later epochs have a different length.

    After ``normal_iters`` the cosine clock advances by ``iters_per_epoch / iters_per_epoch_semi``
    per iteration so that one semi epoch moves the schedule as far as one normal epoch.
    """
    min_lr = lr * min_lr_ratio
    span = total_iters - warmup_total_iters - no_aug_iters
    if iters <= warmup_total_iters:
        return _quadratic_warmup(lr, warmup_lr_start, warmup_total_iters, iters)
    if iters >= normal_iters + semi_iters:
        return min_lr
    if iters <= normal_iters:
        clock = iters - warmup_total_iters
    else:
        clock = normal_iters - warmup_total_iters
        clock += (iters - normal_iters) * iters_per_epoch / float(iters_per_epoch_semi)
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * clock / span))


def multistep_lr(lr: float, milestones: Sequence[int], gamma: float, iters: float) -> float:
    """``lr`` multiplied by ``gamma`` once per milestone (in iterations) already passed."""
    return lr * gamma ** bisect_right(sorted(milestones), iters)


class LRScheduler:
    """Per-iteration learning rate, named as in the official Exp (``exp.scheduler``).

    Args:
        name: "cos", "warmcos", "yoloxwarmcos", "yoloxsemiwarmcos" or "multistep".
        lr: peak learning rate.
        iters_per_epoch: iterations in one epoch.
        total_epochs: number of epochs of the run.
        **kwargs: schedule options: warmup_epochs, warmup_lr_start, no_aug_epochs, min_lr_ratio,
            milestones (epochs), gamma, iters_per_epoch_semi, semi_epoch.
    """

    def __init__(self, name: str, lr: float, iters_per_epoch: int, total_epochs: int, **kwargs):
        self.name = name
        self.lr = lr
        self.iters_per_epoch = iters_per_epoch
        self.total_epochs = total_epochs
        self.total_iters = iters_per_epoch * total_epochs
        self.__dict__.update(kwargs)
        self.lr_func = self._build()

    def update_lr(self, iters: float) -> float:
        """Learning rate to use at (1-based) iteration ``iters``."""
        return self.lr_func(iters)

    def _warmup_iters(self) -> int:
        return max(round(self.iters_per_epoch * getattr(self, "warmup_epochs", 5)), 1)

    def _build(self) -> Callable[[float], float]:
        lr, total = self.lr, self.total_iters
        if self.name == "cos":
            return partial(cos_lr, lr, total)
        if self.name == "warmcos":
            warm_start = getattr(self, "warmup_lr_start", 1e-6)
            return partial(warm_cos_lr, lr, total, self._warmup_iters(), warm_start)
        if self.name == "yoloxwarmcos":
            return partial(
                yolox_warm_cos_lr,
                lr,
                getattr(self, "min_lr_ratio", 0.2),
                total,
                self._warmup_iters(),
                getattr(self, "warmup_lr_start", 0.0),
                self.iters_per_epoch * getattr(self, "no_aug_epochs", 0),
            )
        if self.name == "yoloxsemiwarmcos":
            no_aug_epochs = getattr(self, "no_aug_epochs", 0)
            semi_epoch = self.semi_epoch
            per_epoch_semi = self.iters_per_epoch_semi
            return partial(
                yolox_semi_warm_cos_lr,
                lr,
                getattr(self, "min_lr_ratio", 0.2),
                getattr(self, "warmup_lr_start", 0.0),
                total,
                self.iters_per_epoch * semi_epoch,
                self.iters_per_epoch * no_aug_epochs,
                self._warmup_iters(),
                per_epoch_semi * (self.total_epochs - semi_epoch - no_aug_epochs),
                self.iters_per_epoch,
                per_epoch_semi,
            )
        if self.name == "multistep":
            milestones = [int(self.iters_per_epoch * m) for m in self.milestones]
            return partial(multistep_lr, lr, milestones, getattr(self, "gamma", 0.1))
        raise UserError(
            f"unknown lr scheduler {self.name!r}; choose one of "
            "yoloxwarmcos, yoloxsemiwarmcos, warmcos, cos, multistep"
        )

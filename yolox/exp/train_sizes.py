"""The image sizes a run really trains at, said out loud.

As in official YOLOX, ``random_size`` (multiples of 32) overrides ``input_size`` +-
``multiscale_range`` for multi-scale training: the nano exp's ``random_size=(10, 20)`` trains at
320-640 px whatever ``input_size`` says. The semantics stay; these helpers make them visible.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

__all__ = ["describe_training_sizes", "input_size_override_warning", "training_size_range"]

Size = Tuple[int, int]


def training_size_range(exp: Any) -> Tuple[Size, Size]:
    """(smallest, largest) (height, width) that ``exp.random_resize`` can pick."""
    ratio = exp.input_size[1] / exp.input_size[0]
    if exp.random_size is None:
        base = int(exp.input_size[0] / 32)
        low, high = base - exp.multiscale_range, base + exp.multiscale_range
    else:
        low, high = exp.random_size
    return (32 * low, 32 * int(low * ratio)), (32 * high, 32 * int(high * ratio))


def describe_training_sizes(exp: Any) -> str:
    """One line: the multi-scale range, where it comes from, and the evaluation size."""
    (low_h, low_w), (high_h, high_w) = training_size_range(exp)
    source = (
        f"random_size={tuple(exp.random_size)}"
        if exp.random_size is not None
        else f"input_size {tuple(exp.input_size)} +- multiscale_range={exp.multiscale_range}"
    )
    return (
        f"training sizes: {low_h}x{low_w} to {high_h}x{high_w} px ({source}; a new size every "
        f"10 iterations, the first ones at input_size {tuple(exp.input_size)}); evaluation at "
        f"test_size {tuple(exp.test_size)}"
    )


def input_size_override_warning(exp: Any) -> Optional[str]:
    """A warning when ``input_size`` differs from what the exp's class (or a parent class)
    set, while the ``random_size`` that overrides it was left as that class set it."""
    if exp.random_size is None:
        return None
    for cls in type(exp).__mro__:
        if not hasattr(cls, "random_resize") or getattr(cls, "__abstractmethods__", None):
            continue
        try:
            reference = cls()
        except Exception:  # a class that needs arguments says nothing about defaults
            continue
        if (
            reference.random_size is not None
            and tuple(reference.random_size) == tuple(exp.random_size)
            and tuple(reference.input_size) != tuple(exp.input_size)
        ):
            (low, _), (high, _) = training_size_range(exp)
            return (
                f"input_size is {tuple(exp.input_size)} (the {cls.__name__} default is "
                f"{tuple(reference.input_size)}) but random_size is still "
                f"{tuple(exp.random_size)}, which decides the multi-scale training sizes: this "
                f"run trains at {low}-{high} px. Set random_size too (e.g. random_size "
                f"({exp.input_size[0] // 32}, {exp.input_size[0] // 32})) to train at "
                f"{exp.input_size[0]} px."
            )
    return None

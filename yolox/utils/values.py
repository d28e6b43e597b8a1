"""Type-and-range rules for exp fields and command-line flags, so both give the same message.

A rule is a callable returning ``None`` for a good value or a short description of what is
wanted ("an integer >= 1"). :func:`check_value` turns a failure into a :class:`UserError`;
:func:`arg_type` turns a rule into an ``argparse`` ``type=`` (exit 2 with a one-line message).
"""

from __future__ import annotations

import argparse
import math
from typing import Any, Callable, Optional, Sequence

from .errors import UserError

__all__ = [
    "Rule",
    "integer",
    "number",
    "one_of",
    "optional",
    "size_pair",
    "problem_with",
    "check_value",
    "arg_type",
    "check_all",
]

Rule = Callable[[Any], Optional[str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(minimum: Optional[int] = None) -> Rule:
    """An int (not a bool), at least ``minimum`` when given."""
    wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")

    def rule(value: Any) -> Optional[str]:
        ok = _is_int(value) and (minimum is None or value >= minimum)
        return None if ok else wanted

    return rule


def number(
    minimum: Optional[float] = None, maximum: Optional[float] = None, above: bool = False
) -> Rule:
    """A finite int or float in [minimum, maximum] (``above``: strictly greater than minimum)."""
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if above else '>='} {minimum}")
    if maximum is not None:
        bounds.append(f"<= {maximum}")
    wanted = "a finite number" + (" " + " and ".join(bounds) if bounds else "")

    def rule(value: Any) -> Optional[str]:
        if not _is_number(value):
            return wanted
        if minimum is not None and (value <= minimum if above else value < minimum):
            return wanted
        if maximum is not None and value > maximum:
            return wanted
        return None

    return rule


def one_of(*choices: Any) -> Rule:
    def rule(value: Any) -> Optional[str]:
        return None if value in choices else f"one of {list(choices)}"

    return rule


def optional(inner: Rule) -> Rule:
    """None, or a value ``inner`` accepts."""

    def rule(value: Any) -> Optional[str]:
        problem = None if value is None else inner(value)
        return None if problem is None else f"None or {problem}"

    return rule


def size_pair(multiple: int = 32) -> Rule:
    """(height, width): two positive integers, multiples of ``multiple``."""
    wanted = f"(height, width), positive multiples of {multiple}"

    def rule(value: Any) -> Optional[str]:
        ok = (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(_is_int(v) and v > 0 and v % multiple == 0 for v in value)
        )
        return None if ok else wanted

    return rule


def problem_with(name: str, value: Any, rule: Rule) -> Optional[str]:
    """``"name must be WANTED, got VALUE"``, or None when the value is good."""
    wanted = rule(value)
    return None if wanted is None else f"{name} must be {wanted}, got {value!r}"


def check_value(name: str, value: Any, rule: Rule) -> Any:
    """``value`` if ``rule`` accepts it, else a :class:`UserError` naming ``name``."""
    problem = problem_with(name, value, rule)
    if problem:
        raise UserError(problem)
    return value


def arg_type(rule: Rule, convert: Callable[[str], Any] = int) -> Callable[[str], Any]:
    """An ``argparse`` ``type=`` that converts with ``convert`` and then applies ``rule``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = text
        wanted = rule(value)
        if wanted is not None:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def check_all(values: Sequence[tuple]) -> None:
    """Check ``(name, value, rule)`` triples; one UserError listing every problem."""
    problems = [p for p in (problem_with(*triple) for triple in values) if p]
    if problems:
        raise UserError("; ".join(problems))

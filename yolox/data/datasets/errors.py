"""Errors and problem records shared by the loaders and the dataset checker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List

from loguru import logger

from yolox.utils.errors import UserError

__all__ = ["DatasetError", "TruncatedImageError", "Problem", "report_problems"]


class DatasetError(UserError):
    """A dataset file is missing, unreadable or malformed; the message names the file."""


class TruncatedImageError(DatasetError):
    """A JPEG cut short: training substitutes another image, evaluation leaves it out."""


@dataclass(frozen=True)
class Problem:
    """One finding about a dataset: ``severity`` is "error" (unusable) or "warning" (repaired).

    ``skipped_image`` marks images a loader leaves out (missing or undecodable): tolerable
    while training, but the dataset checker reports them as errors.
    """

    severity: str
    file: str
    message: str
    skipped_image: bool = False

    @property
    def text(self) -> str:
        """The message without a repeat of the file path (errors from image decoding end in
        ``: <path>``).

        Only ``: <path>`` with the whole path is dropped: a longer path that starts with it (a
        file inside the folder this problem is about) and any other mention are kept as they
        are, so the message stays readable and names every path in full.
        """
        whole = re.escape(self.file) + r"(?![\\/\w.-])"
        return re.sub(": " + whole, "", self.message)

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.file}: {self.text}"


def report_problems(
    problems: Iterable[Problem], source: str, max_logged: int = 20
) -> List[Problem]:
    """Log warnings (a bounded number, then a count) and raise one DatasetError for all errors.

    Real annotation sets can have thousands of repaired boxes; logging each one would drown the
    training log, so only the first ``max_logged`` warnings are shown individually.
    """
    problems = list(problems)
    warnings = [p for p in problems if p.severity != "error"]
    errors = [p for p in problems if p.severity == "error"]
    for problem in warnings[:max_logged]:
        logger.warning(f"{source}: {problem.file}: {problem.text}")
    if len(warnings) > max_logged:
        logger.warning(f"{source}: {len(warnings) - max_logged} more warnings not shown")
    if errors:
        lines = "\n".join(f"  {p.file}: {p.text}" for p in errors[:max_logged])
        more = f"\n  ... and {len(errors) - max_logged} more" if len(errors) > max_logged else ""
        raise DatasetError(f"{source}: {len(errors)} error(s) in the dataset files:\n{lines}{more}")
    return problems

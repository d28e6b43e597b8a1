"""Command-line parsing shared by every tool: ``KEY VALUE`` exp overrides anywhere on the line.

``python tools/train.py max_epoch 3 -f exp.py --device cpu`` and ``... --tsize 256 val_sets
val`` both work: flags and overrides may be mixed in any order (argparse's intermixed
parsing), and a size flag keeps only its leading integers, handing the rest on as overrides.
"""

from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

from .values import arg_type, number

__all__ = [
    "add_overrides_arg",
    "add_size_arg",
    "add_local_rank_arg",
    "add_threshold_args",
    "parse_command_line",
]

_SPILLED = "_overrides_after_size"


def add_overrides_arg(parser: argparse.ArgumentParser) -> None:
    """The positional ``KEY VALUE ...`` exp overrides (``args.opts``)."""
    parser.add_argument(
        "opts",
        nargs="*",
        default=[],
        metavar="KEY VALUE",
        help="exp fields to override, e.g. max_epoch 10 (anywhere on the command line)",
    )


class _LeadingInts(argparse.Action):
    """``--tsize H [W]``: up to two leading integers; later words are exp overrides."""

    def __call__(self, parser, namespace, values, option_string=None):
        sizes = []
        for text in values:
            if len(sizes) == 2 or not text.lstrip("-").isdigit():
                break
            sizes.append(int(text))
        if not sizes:
            parser.error(f"argument {option_string}: expected an integer size, got {values[0]!r}")
        setattr(namespace, self.dest, sizes)
        rest = list(values[len(sizes) :])
        setattr(namespace, _SPILLED, list(getattr(namespace, _SPILLED, [])) + rest)


def add_size_arg(parser: argparse.ArgumentParser, flag: str = "--tsize", help: str = "") -> None:
    """A ``H [W]`` size flag that stops at the first word that is not an integer."""
    parser.add_argument(
        flag, nargs="+", default=None, action=_LeadingInts, metavar="H [W]", help=help
    )


def add_threshold_args(
    parser: argparse.ArgumentParser,
    conf: Optional[float],
    nms: Optional[float],
    default_note: str = "",
) -> None:
    """``--conf`` and ``--nms``: probabilities in [0, 1] in every tool (2.0 or -1 exit 2)."""
    probability = arg_type(number(0.0, 1.0), float)
    parser.add_argument(
        "--conf",
        default=conf,
        type=probability,
        help=f"score threshold (obj * class){default_note}",
    )
    parser.add_argument(
        "--nms", default=nms, type=probability, help=f"NMS IoU threshold{default_note}"
    )


def add_local_rank_arg(parser: argparse.ArgumentParser) -> None:
    """``--local_rank``/``--local-rank`` as passed by ``python -m torch.distributed.launch``.

    The process's local rank is read from the ``LOCAL_RANK`` environment variable (torchrun and
    torch.distributed.launch both set it); the flag only fills that variable when it is unset.
    """
    parser.add_argument(
        "--local_rank",
        "--local-rank",
        dest="local_rank",
        type=int,
        default=None,
        help=argparse.SUPPRESS,
    )


def parse_command_line(
    parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None
) -> argparse.Namespace:
    """Parse with flags and ``KEY VALUE`` overrides in any order (argparse errors exit 2)."""
    args = parser.parse_intermixed_args(argv)
    spilled = list(getattr(args, _SPILLED, []))
    if hasattr(args, _SPILLED):
        delattr(args, _SPILLED)
    if hasattr(args, "opts"):
        args.opts = list(args.opts or []) + spilled
    elif spilled:
        parser.error(f"unrecognized arguments: {' '.join(spilled)}")
    if getattr(args, "local_rank", None) is not None:
        os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args

"""The train command's flags. Each one fills the :class:`~yolox.core.train_options.TrainOptions`
field of its ``dest`` name, where the option's type, default and check are declared; the parser
takes its defaults from there (tests/core/test_train_options.py keeps the names in step).
"""

from __future__ import annotations

import argparse

from yolox.core.train_options import TrainOptions
from yolox.utils.cli_args import (
    add_device_arg,
    add_dist_args,
    add_exp_args,
    add_fp16_arg,
    add_logger_arg,
    add_overrides_arg,
    add_precision_arg,
    count,
)

__all__ = ["make_train_parser"]


def make_train_parser() -> argparse.ArgumentParser:
    """The official YOLOX training flags plus --device, --save-interval, --sync-bn, --dist-timeout."""
    parser = argparse.ArgumentParser("YOLOX train parser")
    add_exp_args(parser, "checkpoint file", overrides=False)
    add_dist_args(parser)
    parser.add_argument(  # checked by TrainOptions (a train-only option)
        "--dist-timeout", type=float, help="collective timeout (s, default %(default)s)"
    )
    parser.add_argument("--resume", action="store_true", help="resume training")
    parser.add_argument(
        "-e",
        "--start_epoch",
        type=count(1),
        help="with --resume: restart at this epoch (1-based) instead of the checkpoint's",
    )
    add_fp16_arg(parser, "mixed precision (CUDA)")
    add_precision_arg(
        parser,
        None,
        "CPU precision (default: the exp's precision field): auto = bf16 autocast where "
        "the CPU has AMX or AVX-512 BF16, else fp32",
    )
    parser.add_argument(
        "--cache",
        type=str,
        nargs="?",
        const="ram",
        choices=["ram", "disk"],
        help="cache images in ram or on disk",
    )
    parser.add_argument(
        "-o",
        "--occupy",
        dest="occupy",
        action="store_true",
        help="reserve GPU memory up front",
    )
    add_logger_arg(parser)
    add_device_arg(parser)
    parser.add_argument(
        "--save-interval",
        type=count(0),
        help="also write latest_ckpt.pth every N iterations (0: end of epoch only)",
    )
    parser.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm under DDP (CUDA)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail unless every tensor of the -c checkpoint fits the model (fine-tuning)",
    )
    add_overrides_arg(parser)
    # not for the positional KEY VALUE overrides: argparse's intermixed parsing warns about a
    # default there and drops it (None already means "no overrides" to TrainOptions)
    defaults = TrainOptions.defaults()
    del defaults["opts"]
    parser.set_defaults(**defaults)
    return parser

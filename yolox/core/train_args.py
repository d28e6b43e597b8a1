"""The train command's flags. Each one fills the :class:`~yolox.core.train_options.TrainOptions`
field of its ``dest`` name, where the option's type, default and check are declared
(tests/core/test_train_options.py keeps the two in step: same names, same defaults).
"""

from __future__ import annotations

import argparse

from yolox.utils.cli_args import add_local_rank_arg, add_overrides_arg
from yolox.utils.values import arg_type, integer

__all__ = ["make_train_parser"]


def make_train_parser() -> argparse.ArgumentParser:
    """The official YOLOX training flags plus --device, --save-interval, --sync-bn, --dist-timeout."""
    parser = argparse.ArgumentParser("YOLOX train parser")
    parser.add_argument("-expn", "--experiment-name", type=str, default=None)
    parser.add_argument("-n", "--name", type=str, default=None, help="model name, e.g. yolox-s")
    parser.add_argument("--dist-backend", default="auto", type=str, help="nccl, gloo or auto")
    parser.add_argument("--dist-url", default=None, type=str, help="tcp://HOST:PORT of machine 0")
    parser.add_argument("--dist-timeout", default=1800, type=float, help="collective timeout (s)")
    parser.add_argument(
        "-b", "--batch-size", type=arg_type(integer(1)), default=64, help="total batch size"
    )
    parser.add_argument(
        "-d", "--devices", default=None, type=arg_type(integer(1)), help="processes per machine"
    )
    parser.add_argument("-f", "--exp_file", default=None, type=str, help="experiment file")
    parser.add_argument("--resume", default=False, action="store_true", help="resume training")
    parser.add_argument(
        "-c",
        "--ckpt",
        default=None,
        type=str,
        help="checkpoint file, or a model name (yolox-s) for the official COCO weights",
    )
    parser.add_argument(
        "-e",
        "--start_epoch",
        default=None,
        type=arg_type(integer(1)),
        help="with --resume: restart at this epoch (1-based) instead of the checkpoint's",
    )
    parser.add_argument("--num_machines", default=1, type=int)
    parser.add_argument("--machine_rank", default=0, type=int)
    parser.add_argument(
        "--fp16", dest="fp16", default=False, action="store_true", help="mixed precision (CUDA)"
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default=None,
        help="CPU precision (default: the exp's precision field): auto = bf16 autocast where "
        "the CPU has AMX or AVX-512 BF16, else fp32",
    )
    parser.add_argument(
        "--cache",
        type=str,
        nargs="?",
        const="ram",
        default=None,
        choices=["ram", "disk"],
        help="cache images in ram or on disk",
    )
    parser.add_argument(
        "-o",
        "--occupy",
        dest="occupy",
        default=False,
        action="store_true",
        help="reserve GPU memory up front",
    )
    parser.add_argument(
        "-l",
        "--logger",
        type=str,
        default="tensorboard",
        help="tensorboard (default), wandb or mlflow",
    )
    parser.add_argument("--device", type=str, default=None, help="auto (default), cpu or cuda")
    parser.add_argument(
        "--save-interval",
        type=arg_type(integer(0)),
        default=0,
        help="also write latest_ckpt.pth every N iterations (0: end of epoch only)",
    )
    parser.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm under DDP (CUDA)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail unless every tensor of the -c checkpoint fits the model (fine-tuning)",
    )
    add_local_rank_arg(parser)
    add_overrides_arg(parser)
    return parser

"""Every command-line flag the tools share, defined once; ``KEY VALUE`` overrides anywhere.

Each shared flag (``-f/-n/-c/-expn``, the distributed flags, ``--device``, ``-b``, ``--logger``,
``--precision``, the exporters' and int8 flags, ...) is added by one builder below, so that
every tool spells it, defaults it and checks its value the same way: values are checked by
argparse ``type=``/``choices=`` (exit 2 with argparse's message, before any work starts).

One device rule for every tool: ``--device auto`` (the default) is CUDA when available, else
the CPU, as official YOLOX users expect; ``cpu``, ``cuda``/``gpu`` and ``cuda:N`` choose.

``python tools/train.py max_epoch 3 -f exp.py --device cpu`` and ``... --tsize 256 val_sets
val`` both work: flags and overrides may be mixed in any order (argparse's intermixed
parsing), and a size flag keeps only its leading integers, handing the rest on as overrides.
"""

from __future__ import annotations

import argparse
import functools
import os
from typing import Any, Optional, Sequence, Union

from .device import DEVICE_CHOICES, check_device_name
from .errors import UserError
from .precision import PRECISIONS
from .values import arg_type, integer, number

__all__ = [
    "add_batch_size_arg",
    "add_device_arg",
    "add_dist_args",
    "add_dynamic_arg",
    "add_exp_args",
    "add_export_args",
    "add_fast_arg",
    "add_fp16_arg",
    "add_int8_args",
    "add_int8_check_args",
    "add_local_rank_arg",
    "add_logger_arg",
    "add_no_latency_arg",
    "add_overrides_arg",
    "add_precision_arg",
    "add_runtime_args",
    "add_size_arg",
    "add_threshold_args",
    "count",
    "parse_command_line",
    "LOGGERS",
]

#: a parser or an argument group of one
Parser = Union[argparse.ArgumentParser, "argparse._ArgumentGroup"]

#: training trackers (``-l/--logger``)
LOGGERS = ("tensorboard", "wandb", "mlflow")
_SPILLED = "_overrides_after_size"
CKPT_HELP = "checkpoint (default: <output_dir>/<exp_name>/best_ckpt.pth of the exp)"


@functools.cache
def count(minimum: int = 1) -> Any:
    """``type=`` of a whole-number flag: an integer >= ``minimum`` (argparse exit 2 otherwise);
    one object per minimum, so that tools can be compared flag by flag."""
    return arg_type(integer(minimum))


def _device_name(text: str) -> str:
    try:
        return check_device_name(text)
    except UserError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_exp_args(
    parser: Parser,
    ckpt_help: str = CKPT_HELP,
    *,
    exp_file_required: bool = False,
    model_name: bool = True,
    ckpt: bool = True,
    overrides: bool = True,
) -> None:
    """``-expn``, ``-n``, ``-f``, ``-c`` as in official YOLOX, and the ``KEY VALUE`` overrides.

    ``model_name=False`` leaves out ``-n``/``-expn`` (tools that need an exp file), ``ckpt`` and
    ``overrides`` the checkpoint and the overrides.
    """
    if model_name:
        parser.add_argument(
            "-expn", "--experiment-name", type=str, default=None, help="experiment (run) name"
        )
        parser.add_argument("-n", "--name", type=str, default=None, help="model name, e.g. yolox-s")
    parser.add_argument(
        "-f",
        "--exp_file",
        default=None,
        required=exp_file_required,
        type=str,
        help="experiment description file",
    )
    if ckpt:
        parser.add_argument(
            "-c",
            "--ckpt",
            default=None,
            type=str,
            help=f"{ckpt_help}; a model name (yolox-s) fetches the official COCO weights",
        )
    if overrides:
        add_overrides_arg(parser)


def add_batch_size_arg(parser: Parser, default: int, help: str) -> None:
    """``-b/--batch-size``: an integer >= 1."""
    parser.add_argument("-b", "--batch-size", type=count(1), default=default, help=help)


def add_dist_args(parser: Parser) -> None:
    """``-b`` (total batch) and the official distributed flags: ``-d``, ``--dist-backend``,
    ``--dist-url``, ``--num_machines``, ``--machine_rank`` (and ``--local_rank``)."""
    add_batch_size_arg(parser, 64, "total batch size (over every process)")
    parser.add_argument(
        "-d",
        "--devices",
        default=None,
        type=count(1),
        help="processes (devices) per machine (default: every GPU, or one CPU process)",
    )
    parser.add_argument(
        "--dist-backend",
        default="auto",
        choices=["auto", "nccl", "gloo", "mpi"],
        help="distributed backend (auto: nccl on CUDA, else gloo)",
    )
    parser.add_argument(
        "--dist-url", default=None, type=str, help="tcp://HOST:PORT of machine 0 (several machines)"
    )
    parser.add_argument("--num_machines", default=1, type=count(1), help="number of machines")
    parser.add_argument(
        "--machine_rank", default=0, type=count(0), help="rank of this machine (0 = the master)"
    )
    add_local_rank_arg(parser)


def add_device_arg(parser: Parser, note: str = "") -> None:
    """``--device``: one default (``auto``) and one value check in every tool."""
    parser.add_argument(
        "--device",
        default="auto",
        type=_device_name,
        help=f"{DEVICE_CHOICES}; default auto{note}",
    )


def add_logger_arg(parser: Parser) -> None:
    """``-l/--logger``: the training tracker (its package is checked before training starts)."""
    parser.add_argument(
        "-l",
        "--logger",
        type=str.lower,
        default="tensorboard",
        choices=list(LOGGERS),
        help="training tracker (default tensorboard)",
    )


def add_precision_arg(parser: Parser, default: Optional[str], help: str) -> None:
    """``--precision auto|fp32|bf16`` (CPU autocast); what the default means differs per tool."""
    parser.add_argument("--precision", choices=list(PRECISIONS), default=default, help=help)


def add_fp16_arg(parser: Parser, help: str) -> None:
    """``--fp16``: half precision on CUDA (ignored with a warning on CPU)."""
    parser.add_argument("--fp16", action="store_true", default=False, help=help)


def add_fast_arg(parser: Parser, help: str) -> None:
    """``--fast``: the inference fast path (fused, SPPF pooling, channels-last)."""
    parser.add_argument("--fast", action="store_true", help=help)


def add_no_latency_arg(parser: Parser) -> None:
    """``--no-latency``: params and GFLOPs only, no CPU latency timing."""
    parser.add_argument("--no-latency", action="store_true", help="skip the latency timing")


def add_runtime_args(parser: Parser, fuse_help: str = "fuse conv and bn") -> None:
    """How eval and demo run the model: precision, preprocessing, fast path, backend."""
    add_fp16_arg(parser, "half precision (CUDA only)")
    add_precision_arg(
        parser,
        "auto",
        "CPU precision: bf16 autocast or fp32; auto (default) = bf16 with --fast on CPUs "
        "with AMX or AVX-512 BF16, else fp32",
    )
    parser.add_argument("--legacy", action="store_true", help="old normalised-RGB preprocessing")
    parser.add_argument("--fuse", action="store_true", help=fuse_help)
    add_fast_arg(parser, "fast path: fuse, SPPF pooling, channels-last")
    parser.add_argument(
        "--backend",
        choices=["torch", "onnxruntime", "openvino"],
        default="torch",
        help="run the PyTorch checkpoint (default) or an exported model (--onnx / --xml)",
    )
    parser.add_argument(
        "--onnx",
        "--xml",
        dest="exported_file",
        default=None,
        help="exported model: .onnx for --backend onnxruntime, OpenVINO .xml for openvino",
    )


def add_export_args(parser: argparse.ArgumentParser, default_output: str) -> None:
    """Flags every exporter shares: output file, dummy batch, size, device, model and exp
    overrides."""
    parser.add_argument("--output-name", type=str, default=default_output, help="output file")
    add_batch_size_arg(parser, 1, "batch size of the dummy input")
    add_size_arg(
        parser,
        help="export size H [W] (default: the exp's, else the checkpoint's test size, else 640)",
    )
    add_device_arg(parser, " (the exported file is the same on either)")
    add_exp_args(parser)


def add_dynamic_arg(parser: Parser) -> None:
    """``--dynamic``: dynamic batch, height and width; without it the graph is fixed at the
    export size (official YOLOX's polarity, the same in the ONNX and OpenVINO exporters)."""
    parser.add_argument(
        "--dynamic",
        action="store_true",
        help="dynamic batch, height and width (default: fixed at the export size)",
    )


def add_int8_check_args(parser: Parser, calib_images: int) -> None:
    """How an int8 model is calibrated and accepted: ``--calib-images``, ``--max-ap-drop``,
    ``--keep-head-fp32`` (the exporters and ``bench --deploy``)."""
    parser.add_argument(
        "--calib-images",
        type=count(1),
        default=calib_images,
        help="training images for int8 calibration",
    )
    parser.add_argument(
        "--max-ap-drop",
        type=arg_type(number(), float),
        default=1.0,
        help="refuse the int8 model when it loses more AP50:95 points than this on the val set",
    )
    parser.add_argument(
        "--keep-head-fp32",
        action="store_true",
        help="keep the head's final prediction convs in float32",
    )


def add_int8_args(parser: Parser, quantizer: str, accuracy_control: bool = False) -> None:
    """``--int8`` and its calibration and AP-check flags, the same for every exporter
    (``--accuracy-control`` where the quantizer has it)."""
    parser.add_argument(
        "--int8", action="store_true", help=f"also write an int8 model ({quantizer})"
    )
    if accuracy_control:
        parser.add_argument(
            "--accuracy-control",
            action="store_true",
            help="quantize with NNCF's accuracy control: operations that cost most AP go back "
            "to float32 until the drop is within --max-ap-drop (slower: validates many times)",
        )
    else:
        parser.set_defaults(accuracy_control=False)
    add_int8_check_args(parser, 300)
    parser.add_argument(
        "--eval-batch-size", type=count(1), default=8, help="batch size of the AP comparison"
    )
    parser.add_argument(
        "--speed-runs",
        type=count(1),
        default=10,
        help="timed runs of fp32 and int8 side by side (batch of --batch-size, after warm-up)",
    )
    parser.add_argument(
        "--keep-slow-int8",
        action="store_true",
        help="write the int8 (or OpenVINO bf16) model even where it is not faster than fp32 "
        "on this CPU",
    )


def add_overrides_arg(parser: Parser) -> None:
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
        if any(size <= 0 or size % 32 for size in sizes):
            parser.error(
                f"argument {option_string}: sizes must be positive multiples of 32, got "
                f"{' '.join(map(str, sizes))}"
            )
        setattr(namespace, self.dest, sizes)
        rest = list(values[len(sizes) :])
        setattr(namespace, _SPILLED, list(getattr(namespace, _SPILLED, [])) + rest)


def add_size_arg(parser: Parser, flag: str = "--tsize", help: str = "") -> None:
    """A ``H [W]`` size flag that stops at the first word that is not an integer."""
    parser.add_argument(
        flag, nargs="+", default=None, action=_LeadingInts, metavar="H [W]", help=help
    )


def add_threshold_args(
    parser: Parser,
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


def add_local_rank_arg(parser: Parser) -> None:
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

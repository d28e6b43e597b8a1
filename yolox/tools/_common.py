"""Command-line plumbing shared by the eval/demo/export/visualise tools: model, size and exp
flags, and the messages and exit codes of an int8/bf16 candidate's check (the library,
:func:`yolox.deploy.int8.keep_if_it_pays`, returns what it measured; this module says it)."""

from __future__ import annotations

import argparse
import os
from typing import Any, Optional, Sequence, Tuple

from loguru import logger

from yolox.deploy.int8 import AP_FLOOR, CandidateCheck, CheckOptions
from yolox.exp import get_exp
from yolox.inference.pretrained import pretrained_name
from yolox.utils.cli_args import add_overrides_arg, add_size_arg
from yolox.utils.errors import UserError

__all__ = [
    "add_int8_args",
    "add_model_args",
    "check_int8_args",
    "check_options",
    "report_candidate",
    "add_runtime_args",
    "build_exp",
    "parse_tsize",
    "require_exported_file",
]


def add_model_args(parser: argparse.ArgumentParser, ckpt_help: str = "checkpoint file") -> None:
    """``-expn``, ``-n``, ``-f``, ``-c`` as in official YOLOX."""
    parser.add_argument("-expn", "--experiment-name", type=str, default=None)
    parser.add_argument("-n", "--name", type=str, default=None, help="model name, e.g. yolox-s")
    parser.add_argument(
        "-f", "--exp_file", default=None, type=str, help="experiment description file"
    )
    parser.add_argument(
        "-c",
        "--ckpt",
        default=None,
        type=str,
        help=f"{ckpt_help}; a model name (yolox-s) fetches the official COCO weights",
    )


def build_exp(args: argparse.Namespace, opts: Sequence[str] = ()) -> Optional[Any]:
    """The exp of ``-f``/``-n`` with ``opts`` merged, or None when neither was given.

    ``-c yolox-s`` alone (a zoo name for the official weights) implies ``-n yolox-s``.
    """
    if args.exp_file is None and args.name is None and pretrained_name(args.ckpt):
        args.name = pretrained_name(args.ckpt)
        logger.info(f"-c {args.ckpt}: the official weights, with the {args.name} experiment")
    if args.exp_file is None and args.name is None:
        if opts:
            raise UserError(f"options {list(opts)} need an experiment (-f or -n) to apply to")
        return None
    exp = get_exp(args.exp_file, args.name)
    if opts:
        exp.merge(list(opts))
    if getattr(args, "experiment_name", None):
        exp.exp_name = args.experiment_name
    return exp


def add_runtime_args(parser: argparse.ArgumentParser, fuse_help: str = "fuse conv and bn") -> None:
    """How eval and demo run the model: precision, preprocessing, fast path, backend."""
    parser.add_argument("--fp16", action="store_true", help="half precision (CUDA only)")
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="CPU precision: bf16 autocast or fp32; auto (default) = bf16 with --fast on CPUs "
        "with AMX or AVX-512 BF16, else fp32",
    )
    parser.add_argument("--legacy", action="store_true", help="old normalised-RGB preprocessing")
    parser.add_argument("--fuse", action="store_true", help=fuse_help)
    parser.add_argument(
        "--fast", action="store_true", help="fast path: fuse, SPPF pooling, channels-last"
    )
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


def require_exported_file(path: Optional[str], backend: str) -> str:
    """``--onnx``/``--xml`` for an exported-model backend: an existing file of that backend."""
    from yolox.deploy.runtimes import BACKENDS

    suffix = BACKENDS[backend]
    if not path or not os.path.isfile(path):
        raise UserError(f"--backend {backend} needs an existing --{suffix[1:]} file (got {path!r})")
    if not path.lower().endswith(suffix):
        raise UserError(f"--backend {backend} reads {suffix} files, got {path}")
    return path


def parse_tsize(values: Optional[Sequence[int]]) -> Optional[Tuple[int, int]]:
    """``--tsize 640`` -> (640, 640); ``--tsize 384 640`` -> (384, 640) (height, width)."""
    if not values:
        return None
    if len(values) == 1:
        values = (values[0], values[0])
    if len(values) != 2:
        raise UserError(f"--tsize takes one or two integers (H [W]), got {list(values)}")
    height, width = int(values[0]), int(values[1])
    if height % 32 or width % 32 or height <= 0 or width <= 0:
        raise UserError(f"--tsize must be positive multiples of 32, got {height}x{width}")
    return height, width


def add_export_args(parser: argparse.ArgumentParser, default_output: str) -> None:
    """Flags every exporter shares: output file, dummy batch, size, device, model and exp overrides."""
    parser.add_argument("--output-name", type=str, default=default_output, help="output file")
    parser.add_argument("--batch-size", type=int, default=1, help="batch size of the dummy input")
    add_size_arg(
        parser,
        help="export size H [W] (default: the exp's, else the checkpoint's test size, else 640)",
    )
    parser.add_argument("--device", default="cpu", help="device to trace on (cpu recommended)")
    add_model_args(parser, "checkpoint (default: <output_dir>/<exp_name>/best_ckpt.pth of the exp)")
    add_overrides_arg(parser)


def load_for_export(args: argparse.Namespace) -> Tuple[Optional[Any], Any, Tuple[int, int]]:
    """(exp or None, the loaded model, export size) from the shared exporter flags."""
    from yolox.inference.loading import load_model, resolve_checkpoint_path

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be >= 1, got {args.batch_size}")
    exp = build_exp(args, args.opts or [])
    loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=args.device)
    tsize = parse_tsize(args.tsize) or loaded.test_size(exp)
    return exp, loaded, tsize


def add_int8_args(
    parser: argparse.ArgumentParser, quantizer: str, accuracy_control: bool = False
) -> None:
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
    parser.add_argument(
        "--calib-images", type=int, default=300, help="training images for int8 calibration"
    )
    parser.add_argument(
        "--max-ap-drop",
        type=float,
        default=1.0,
        help="refuse the int8 model when it loses more AP50:95 points than this on the val set",
    )
    parser.add_argument(
        "--keep-head-fp32",
        action="store_true",
        help="keep the head's final prediction convs in float32",
    )
    parser.add_argument(
        "--eval-batch-size", type=int, default=8, help="batch size of the AP comparison"
    )
    parser.add_argument(
        "--speed-runs",
        type=int,
        default=10,
        help="timed runs of fp32 and int8 side by side (batch of --batch-size, after warm-up)",
    )
    parser.add_argument(
        "--keep-slow-int8",
        action="store_true",
        help="write the int8 (or OpenVINO bf16) model even where it is not faster than fp32 "
        "on this CPU",
    )


def check_int8_args(args: argparse.Namespace) -> None:
    """The int8 flags make sense together: an exp to calibrate on, positive counts."""
    if not args.int8:
        extra = [
            flag
            for flag, used in (
                ("--keep-head-fp32", args.keep_head_fp32),
                ("--accuracy-control", args.accuracy_control),
            )
            if used
        ]
        if extra:
            raise UserError(f"{' and '.join(extra)} only apply with --int8")
        return
    if args.exp_file is None and args.name is None:
        raise UserError(
            "--int8 needs the experiment (-f or -n): it calibrates on its training set and "
            "checks the AP on its validation set"
        )
    if args.calib_images < 1:
        raise UserError(f"--calib-images must be >= 1, got {args.calib_images}")
    if args.eval_batch_size < 1:
        raise UserError(f"--eval-batch-size must be >= 1, got {args.eval_batch_size}")
    if args.speed_runs < 1:
        raise UserError(f"--speed-runs must be >= 1, got {args.speed_runs}")


def check_options(args: argparse.Namespace) -> CheckOptions:
    """The :class:`yolox.deploy.int8.CheckOptions` of the int8 flags (``--max-ap-drop``, ...)."""
    return CheckOptions(
        max_ap_drop=args.max_ap_drop,
        batch_size=args.batch_size,
        speed_runs=args.speed_runs,
        eval_batch_size=args.eval_batch_size,
        keep_slow=args.keep_slow_int8,
    )


def report_candidate(check: CandidateCheck, exp: Any) -> str:
    """Print what :func:`yolox.deploy.int8.keep_if_it_pays` measured (speed, then AP) and turn a
    refusal into a one-line :class:`UserError` (exit 2) naming the flag that would change it;
    returns the path written."""
    size = tuple(int(s) for s in exp.test_size)
    label, speed, target = check.label, check.speed, check.target
    print(f"Speed on this CPU at {size[0]}x{size[1]}:")
    print(speed.table())
    if not check.faster:
        note = (
            f"{label} is not faster than fp32 here ({speed.int8_ms:.1f} vs {speed.fp32_ms:.1f} "
            f"ms per batch of {speed.batch}) on {check.capability}"
        )
        if check.ap is None:
            raise UserError(
                f"{note}: {target} not written; ship {check.fp32_path}, or pass "
                "--keep-slow-int8 to write it anyway"
            )
        logger.warning(f"{note}; writing it anyway (--keep-slow-int8)")
    comparison = check.ap
    print(f"AP on the validation set of {exp.exp_name} at {size[0]}x{size[1]}:")
    print(comparison.table())
    if not check.ap_can_judge:
        print(
            f"the AP check cannot judge this model: its fp32 AP50:95 is {comparison.fp32[0]:.2f}, "
            f"below the floor of {AP_FLOOR:g} points where an AP drop means something; "
            "check int8 on a trained model"
        )
    if not check.written:
        stale = (
            f" (the {target} already there is from an earlier export)"
            if os.path.exists(target)
            else ""
        )
        advice = (
            "try --keep-head-fp32, more --calib-images, --accuracy-control (OpenVINO), or a "
            "larger --max-ap-drop"
            if label == "int8"
            else "ship the fp32 model, or allow a larger --max-ap-drop"
        )
        raise UserError(
            f"{label} loses {comparison.drop:.2f} AP50:95 points (fp32 {comparison.fp32[0]:.2f}, "
            f"{label} {comparison.int8[0]:.2f}), more than --max-ap-drop "
            f"{check.options.max_ap_drop}: {target} not written{stale}; {advice}"
        )
    print(f"saved {target}")
    return target

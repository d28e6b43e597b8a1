"""Command-line plumbing shared by the eval/demo/export/visualise tools (their flags are defined
in yolox.utils.cli_args): the exp, the size, the exported file, and the messages and exit codes
of an int8/bf16 candidate's check (the library, :func:`yolox.deploy.int8.keep_if_it_pays`,
returns what it measured; this module says it)."""

from __future__ import annotations

import argparse
import os
from typing import Any, Optional, Sequence, Tuple

from loguru import logger

from yolox.deploy.int8 import AP_FLOOR, CandidateCheck, CheckOptions
from yolox.exp import get_exp
from yolox.inference.pretrained import pretrained_name
from yolox.utils.errors import UserError

__all__ = [
    "check_int8_args",
    "check_options",
    "report_candidate",
    "load_for_export",
    "build_exp",
    "parse_tsize",
    "require_exported_file",
]


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


def load_for_export(args: argparse.Namespace) -> Tuple[Optional[Any], Any, Tuple[int, int]]:
    """(exp or None, the loaded model, export size) from the shared exporter flags."""
    from yolox.inference.loading import load_model, resolve_checkpoint_path

    exp = build_exp(args, args.opts or [])
    loaded = load_model(resolve_checkpoint_path(args.ckpt, exp), exp=exp, device=args.device)
    tsize = parse_tsize(args.tsize) or loaded.test_size(exp)
    return exp, loaded, tsize


def check_int8_args(args: argparse.Namespace) -> None:
    """The int8 flags make sense together: an exp to calibrate on (the counts are checked by
    the parser)."""
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

"""Command-line plumbing shared by the eval/demo/export/visualise tools (their flags are
defined in yolox.utils.cli_args): the exp, the size, the exported file, the int8 checks."""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
from loguru import logger

from yolox.exp import get_exp
from yolox.utils.errors import UserError

from .pretrained import pretrained_name

__all__ = [
    "check_int8_args",
    "keep_if_it_pays",
    "write_checked_int8",
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
    from .runtimes import BACKENDS

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
    from .loading import load_model, resolve_checkpoint_path

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


def write_checked_int8(
    exp: Any,
    fp32_path: str,
    test_size: Tuple[int, int],
    args: argparse.Namespace,
    quantize: Callable[[List[Any], str], Any],
) -> str:
    """The int8 model beside ``fp32_path`` (``name_int8.ext``), written only when it is faster
    than fp32 on this CPU and its AP on the exp's validation set is within ``--max-ap-drop`` of
    fp32's (:func:`keep_if_it_pays`); ``quantize(images, path)`` writes a candidate from the
    calibration images. Returns the path written."""
    from .quantize import calibration_images, int8_path_for

    exp.test_size = test_size
    images = calibration_images(exp, args.calib_images, test_size)
    logger.info(
        f"calibrating int8 on {len(images)} training images at {test_size[0]}x{test_size[1]}"
    )
    target = int8_path_for(fp32_path)
    with tempfile.TemporaryDirectory() as tmp:
        candidate = os.path.join(tmp, os.path.basename(target))
        quantize(images, candidate)
        keep_if_it_pays(exp, fp32_path, candidate, target, images, args, "int8")
    print(f"saved {target}")
    return target


def keep_if_it_pays(
    exp: Any,
    fp32_path: str,
    candidate: str,
    target: str,
    images: Sequence[Any],
    args: argparse.Namespace,
    label: str,
) -> None:
    """Move ``candidate`` (an int8 or bf16 variant of ``fp32_path``) to ``target`` only where it
    pays: both are timed side by side on a batch of ``--batch-size`` of ``images`` and printed;
    a candidate that is not faster on this CPU is refused (:class:`UserError`) unless
    ``--keep-slow-int8``, which keeps it with a warning; then the AP check of
    :func:`yolox.inference.quantize.accept_int8` (``--max-ap-drop``)."""
    from yolox.utils.precision import cpu_description

    from .quantize import accept_int8, compare_speed, int8_capability_note

    size = tuple(int(s) for s in exp.test_size)
    batch = np.stack([images[i % len(images)] for i in range(args.batch_size)])
    speed = compare_speed(fp32_path, candidate, batch, runs=args.speed_runs, label=label)
    print(f"Speed on this CPU at {size[0]}x{size[1]}:")
    print(speed.table())
    if not speed.int8_pays:
        if label == "int8":
            capability = int8_capability_note()
        else:
            described = cpu_description()
            capability = f"{described['cpu']}: flags {', '.join(described['cpu_flags'])}"
        note = (
            f"{label} is not faster than fp32 here ({speed.int8_ms:.1f} vs {speed.fp32_ms:.1f} "
            f"ms per batch of {speed.batch}) on {capability}"
        )
        if not args.keep_slow_int8:
            raise UserError(
                f"{note}: {target} not written; ship {fp32_path}, or pass --keep-slow-int8 "
                "to write it anyway"
            )
        logger.warning(f"{note}; writing it anyway (--keep-slow-int8)")
    accept_int8(
        exp, fp32_path, candidate, target, args.max_ap_drop, args.eval_batch_size, label=label
    )

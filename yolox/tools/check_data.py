"""``tools/check_data.py`` / ``yolox-check-data``: check a dataset before training on it.

Examples::

    python tools/check_data.py -f exps/example/yolox_nano_bccd.py     # every split the exp uses
    python tools/check_data.py --voc ROOT [--classes RBC,WBC,Platelets] [--image-sets train,val]
    python tools/check_data.py --voc-flat ROOT [--image-sets train,valid] [--annotations-dir D]
    python tools/check_data.py --yolo ROOT|data.yaml [--classes a,b]
    python tools/check_data.py --coco annotations.json --images DIR

With ``-f`` the datasets are built exactly as training builds them (the exp's own
``get_dataset`` / ``get_eval_dataset``, official-style overrides included); with a folder the
data are read as the training loaders read that layout, every split they publish unless
``--image-sets`` names some (see :mod:`yolox.data.check`). Every image is decoded once per
split (``--no-decode`` skips it). Per split it prints every problem once, then the images,
boxes per class and images without boxes. Exit status 1 when there are errors, 0 otherwise
(warnings are repairs the loaders make), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

from loguru import logger

from yolox.data.check import (
    SplitReport,
    as_errors,
    check_folder,
    decode_problems,
    empty_split_problems,
    format_split_summary,
    unique_problems,
)
from yolox.data.datasets.errors import DatasetError, Problem
from yolox.data.datasets.folder_layout import (
    FOLDER_FORMATS,
    find_split_folders,
    resolve_split_folder,
)
from yolox.utils.cli_args import add_exp_args, add_overrides_arg, parse_command_line
from yolox.utils.errors import UserError, run_command

__all__ = ["make_parser", "check_exp_data", "print_reports", "main"]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "YOLOX check_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    add_exp_args(source, model_name=False, ckpt=False, overrides=False)
    source.add_argument(
        "--voc", metavar="ROOT", help="VOC-layout root (Annotations/, JPEGImages/, ImageSets/Main/)"
    )
    source.add_argument(
        "--voc-flat",
        metavar="ROOT",
        help="images with their XML files beside them, per split folder",
    )
    source.add_argument(
        "--yolo",
        metavar="ROOT",
        help="YOLO txt root (images/ + labels/), or the export's data.yaml",
    )
    source.add_argument("--coco", metavar="JSON", help="COCO annotation json (with --images)")
    folder = parser.add_argument_group("a dataset folder without an exp")
    folder.add_argument(
        "--classes", help="comma-separated class names (default: from the data, as in training)"
    )
    folder.add_argument(
        "--image-sets",
        default=None,
        help="comma-separated splits: VOC set names or folder names (default: every split found)",
    )
    folder.add_argument("--images", metavar="DIR", help="image folder (COCO)")
    folder.add_argument(
        "--annotations-dir",
        metavar="DIR",
        help="voc_flat: folder of the XML files beside images/ (exp field annotations_dir)",
    )
    folder.add_argument(
        "--skip-unknown-classes",
        action="store_true",
        help="objects of classes not in --classes are warnings (exp field skip_unknown_classes)",
    )
    parser.add_argument("--no-decode", action="store_true", help="skip decoding every image")
    add_overrides_arg(parser)
    return parser


def _split(exp: Any, name: str, build: Callable[[], Any], decode: bool) -> SplitReport:
    logger.disable("yolox.data")  # the build's warnings are printed below, each once
    try:
        dataset = build()
        exp.bind_class_names(dataset)
    except DatasetError as err:
        return SplitReport(name, problems=[Problem("error", f"<{name} split>", str(err))])
    finally:
        logger.enable("yolox.data")
    problems = as_errors(list(dataset.problems))  # warnings of the build, skipped images
    problems += empty_split_problems(dataset.records, problems, f"<{name} split>")
    if decode:
        problems += decode_problems(dataset.records, progress=True)
    return SplitReport(name, list(dataset.records), dataset.class_names, problems)


def check_exp_data(exp: Any, decode_images: bool = True) -> List[SplitReport]:
    """One report per split the exp uses (train, then val)."""
    return [
        _split(exp, "train", lambda: exp.get_dataset(cache=False), decode_images),
        _split(exp, "val", exp.get_eval_dataset, decode_images),
    ]


def unused_splits(exp: Any, reports: Sequence[SplitReport]) -> List[str]:
    """Split folders of a voc_flat/yolo dataset that hold images the exp reads in no split
    (e.g. Roboflow's test/), so that the user sees them instead of their being skipped."""
    if exp.dataset_format not in FOLDER_FORMATS:
        return []
    root = Path(exp._data_dir(""))
    used = {rec.file.parent.resolve() for report in reports for rec in report.records}
    unused = []
    for split in find_split_folders(root, exp.dataset_format):
        try:
            folder = resolve_split_folder(root, split, exp.dataset_format).resolve()
        except DatasetError:
            continue
        if folder not in used:
            unused.append(split)
    return unused


def print_reports(reports: Sequence[SplitReport]) -> int:
    """Print every problem once, then one summary line per split; the exit status (1: errors)."""
    problems = unique_problems(p for r in reports for p in r.problems)
    for problem in problems:
        print(problem)
    for report in reports:
        print(format_split_summary(report))
    errors = sum(p.severity == "error" for p in problems)
    print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


def _comma_list(text: Optional[str]) -> Optional[List[str]]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def check_exp_command(args: argparse.Namespace) -> int:
    """``-f EXP``: the splits the exp trains and evaluates on."""
    from yolox.exp import get_exp

    folder_flags = [
        flag
        for flag, value in (
            ("--classes", args.classes),
            ("--image-sets", args.image_sets),
            ("--images", args.images),
            ("--annotations-dir", args.annotations_dir),
            ("--skip-unknown-classes", args.skip_unknown_classes),
        )
        if value
    ]
    if folder_flags:
        raise UserError(
            f"{', '.join(folder_flags)} describe a folder (--voc/--voc-flat/--yolo/--coco); "
            "with -f the exp's fields say it (KEY VALUE overrides)"
        )
    exp = get_exp(args.exp_file, None)
    if len(args.opts or []) % 2:
        raise UserError(f"overrides come in KEY VALUE pairs, got {args.opts}")
    exp.merge(args.opts or [])
    reports = check_exp_data(exp, not args.no_decode)
    unused = unused_splits(exp, reports)
    if unused:
        print(f"splits in the data that the exp does not use: {', '.join(unused)}")
    return print_reports(reports)


def check_folder_command(args: argparse.Namespace) -> int:
    """``--voc/--voc-flat/--yolo/--coco``: a dataset on disk, as the loaders of its layout read it."""
    if args.opts:
        raise UserError(f"overrides {args.opts} need an experiment (-f) to apply to")
    if args.coco and not args.images:
        raise UserError("--coco needs the image folder: --images DIR")
    fmt, source = next(
        (fmt, value)
        for fmt, value in (
            ("voc", args.voc),
            ("voc_flat", args.voc_flat),
            ("yolo", args.yolo),
            ("coco", args.coco),
        )
        if value
    )
    wanted = _comma_list(args.image_sets)
    splits, reports = check_folder(
        fmt,
        source,
        wanted,
        _comma_list(args.classes),
        args.images,
        args.skip_unknown_classes,
        not args.no_decode,
        progress=True,
        annotations_dir=args.annotations_dir,
    )
    if fmt != "coco" and not wanted and splits:
        print(f"splits found: {', '.join(str(s) for s in splits)}")
    return print_reports(reports)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)
    command = check_exp_command if args.exp_file else check_folder_command
    return run_command("check_data", lambda: command(args))


if __name__ == "__main__":
    sys.exit(main())

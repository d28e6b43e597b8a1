"""``python tools/check_data.py -f EXP``: check every split an experiment trains and evaluates on.

Builds the datasets exactly as training does (the exp's own ``get_dataset`` /
``get_eval_dataset``, official-style overrides included), then decodes every image once per
split and prints, per split, the images, boxes per class and images without boxes. Exit status
1 when a split has errors, 2 for a wrong command line. For a folder without an exp, use
``python -m yolox.data.check``.
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
    decode_problems,
    empty_split_problems,
    print_reports,
)
from yolox.data.datasets.errors import DatasetError, Problem
from yolox.data.datasets.folder_layout import (
    FOLDER_FORMATS,
    find_split_folders,
    resolve_split_folder,
)
from yolox.utils.errors import UserError, run_command

__all__ = ["make_parser", "check_exp_data", "main"]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("YOLOX check_data", description=__doc__)
    parser.add_argument("-f", "--exp_file", required=True, help="experiment file")
    parser.add_argument("--no-decode", action="store_true", help="skip decoding every image")
    parser.add_argument("opts", nargs="*", help="exp overrides: KEY VALUE ... (anywhere)")
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_intermixed_args(argv)

    def body() -> int:
        from yolox.exp import get_exp

        exp = get_exp(args.exp_file, None)
        if len(args.opts or []) % 2:
            raise UserError(f"overrides come in KEY VALUE pairs, got {args.opts}")
        exp.merge(args.opts or [])
        reports = check_exp_data(exp, not args.no_decode)
        unused = unused_splits(exp, reports)
        if unused:
            print(f"splits in the data that the exp does not use: {', '.join(unused)}")
        return print_reports(reports)

    return run_command("check_data", body)


if __name__ == "__main__":
    sys.exit(main())

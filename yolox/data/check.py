"""Dataset checker: list every problem in a VOC or COCO dataset at once (also a CLI).

Usage::

    python -m yolox.data.check --voc ROOT --classes RBC,WBC,Platelets [--image-sets train,val]
    python -m yolox.data.check --coco annotations.json --images DIR

Exits with status 1 when there are errors, 0 otherwise (warnings are repairs the loaders make).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

from tqdm import tqdm

from .datasets.coco import COCODataset, build_coco_records
from .datasets.detection_base import ImageRecord
from .datasets.errors import DatasetError, Problem
from .datasets.image_io import read_image
from .datasets.voc import VOCDetection, build_voc_records, resolve_image_sets

__all__ = ["check_dataset", "check_voc", "check_coco", "main"]


def _as_errors(problems: List[Problem]) -> List[Problem]:
    """Images a loader would silently leave out are errors for the checker."""
    return [Problem("error", p.file, p.message, True) if p.skipped_image else p for p in problems]


def _check_images(records: List[ImageRecord], problems: List[Problem], progress: bool) -> None:
    """Decode every image fully: unreadable ones are errors, size mismatches warnings."""
    for rec in tqdm(records, desc="decoding images", disable=not progress):
        try:
            img = read_image(rec.file)
        except DatasetError as err:
            problems.append(Problem("error", str(rec.file), str(err)))
            continue
        if img.shape[:2] != (rec.height, rec.width):
            problems.append(
                Problem(
                    "warning",
                    str(rec.file),
                    f"annotated size {rec.width}x{rec.height} but decoded {img.shape[1]}x{img.shape[0]}",
                )
            )


def check_voc(
    root: Union[str, Path],
    class_names: Sequence[str],
    image_sets: Sequence[Any] = ("trainval",),
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """All problems of a VOC-layout dataset (XML, classes, boxes, sizes, image decoding)."""
    try:
        records, problems = build_voc_records(
            resolve_image_sets(Path(root), image_sets), class_names, False, True
        )
    except DatasetError as err:
        return [Problem("error", str(root), str(err))]
    if decode_images:
        _check_images(records, problems, progress)
    return _as_errors(problems)


def check_coco(
    json_file: Union[str, Path],
    images_dir: Union[str, Path],
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """All problems of a COCO json + image folder (json structure, boxes, classes, images)."""
    try:
        _, _, records, _, problems = build_coco_records(json_file, images_dir, False, False)
    except DatasetError as err:
        return [Problem("error", str(json_file), str(err))]
    if decode_images:
        _check_images(records, problems, progress)
    return _as_errors(problems)


def check_dataset(
    dataset_or_root: Union[VOCDetection, COCODataset, str, Path],
    fmt: Optional[str] = None,
    class_names: Optional[Sequence[str]] = None,
    image_sets: Sequence[Any] = ("trainval",),
    images_dir: Optional[Union[str, Path]] = None,
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """Every problem of a dataset object, a VOC root (needs ``class_names``) or a COCO json.

    The format is taken from the object, ``fmt``, or guessed (a .json file is COCO).
    """
    if isinstance(dataset_or_root, VOCDetection):
        ds = dataset_or_root
        return check_voc(ds.root, ds.class_names, ds.image_set, decode_images, progress)
    if isinstance(dataset_or_root, COCODataset):
        ds = dataset_or_root
        return check_coco(ds.json_path, ds.data_dir / ds.name, decode_images, progress)
    path = Path(dataset_or_root)
    fmt = fmt or ("coco" if path.suffix.lower() == ".json" else "voc")
    if fmt == "coco":
        if images_dir is None:
            raise ValueError("checking a COCO json needs images_dir")
        return check_coco(path, images_dir, decode_images, progress)
    if class_names is None:
        raise ValueError("checking a VOC dataset needs class_names")
    return check_voc(path, class_names, image_sets, decode_images, progress)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point; returns the exit status (1 when errors were found)."""
    parser = argparse.ArgumentParser(
        prog="python -m yolox.data.check", description=__doc__.splitlines()[0]
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--voc", metavar="ROOT", help="VOC-layout root (Annotations/, JPEGImages/, ImageSets/Main/)"
    )
    group.add_argument("--coco", metavar="JSON", help="COCO annotation json")
    parser.add_argument("--classes", help="comma-separated class names (VOC)")
    parser.add_argument(
        "--image-sets",
        default="trainval",
        help="comma-separated image sets (VOC), default trainval",
    )
    parser.add_argument("--images", metavar="DIR", help="image folder (COCO)")
    parser.add_argument(
        "--no-decode", action="store_true", help="skip decoding every image (faster)"
    )
    args = parser.parse_args(argv)
    if args.voc:
        if not args.classes:
            parser.error("--voc needs --classes a,b,c")
        names = [c.strip() for c in args.classes.split(",") if c.strip()]
        sets = [s.strip() for s in args.image_sets.split(",") if s.strip()]
        problems = check_voc(args.voc, names, sets, not args.no_decode, progress=True)
    else:
        if not args.images:
            parser.error("--coco needs --images DIR")
        problems = check_coco(args.coco, args.images, not args.no_decode, progress=True)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

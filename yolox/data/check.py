"""Dataset checker: every problem of a dataset at once and what it holds, split by split.

The library half of ``tools/check_data.py`` (``yolox-check-data``): it returns
:class:`SplitReport` findings and never prints or exits; the tool prints them and sets the
exit status. Without explicit splits every split the data publish is checked (VOC: every list
in ImageSets/Main; folders: every split folder holding images, and the ``train:``/``val:``/
``test:`` of a data.yaml). Without class names they come from the data, as in training: the
train split's names number every other split, so a class that training would reject in val is
an error here too. A split without a box is an error naming the likely cause. Warnings are
repairs the loaders make; a truncated JPEG is a warning because training substitutes another
image for it and evaluation leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from .datasets.coco import COCODataset, build_coco_records
from .datasets.data_yaml import find_data_yaml, read_data_yaml
from .datasets.detection_base import ImageRecord
from .datasets.errors import DatasetError, Problem, TruncatedImageError
from .datasets.folder_layout import find_split_folders
from .datasets.image_io import read_image
from .datasets.voc import VOCDetection, build_voc_records, resolve_image_sets
from .datasets.xml_folder import build_flat_xml_records
from .datasets.yolo_txt import build_yolo_records

__all__ = [
    "SplitReport",
    "check_dataset",
    "check_split",
    "check_voc",
    "check_coco",
    "as_errors",
    "decode_problems",
    "empty_split_problems",
    "format_split_summary",
    "check_folder",
    "unique_problems",
]

FORMATS = ("voc", "voc_flat", "yolo", "coco")
SUBSTITUTED = "training substitutes another image, evaluation leaves it out"


@dataclass
class SplitReport:
    """What one split holds (cleaned records, class names) and every problem found in it."""

    name: str
    records: List[ImageRecord] = field(default_factory=list)
    class_names: Sequence[str] = ()
    problems: List[Problem] = field(default_factory=list)


def as_errors(problems: List[Problem]) -> List[Problem]:
    """Images a loader would silently leave out are errors for the checker."""
    return [Problem("error", p.file, p.message, True) if p.skipped_image else p for p in problems]


def decode_problems(
    records: Sequence[ImageRecord],
    progress: bool = False,
    decoded: Optional[Dict[Path, Optional[Tuple[int, int]]]] = None,
) -> List[Problem]:
    """Decode every image fully (once per file, across calls sharing ``decoded``): unreadable
    ones are errors, a decoded size that differs from the annotated one a warning."""
    decoded = {} if decoded is None else decoded
    problems: List[Problem] = []
    for rec in tqdm(records, desc="decoding images", disable=not progress):
        if rec.file not in decoded:
            try:
                decoded[rec.file] = read_image(rec.file).shape[:2]
            except TruncatedImageError as err:
                decoded[rec.file] = None
                problems.append(Problem("warning", str(rec.file), f"{err}; {SUBSTITUTED}"))
                continue
            except DatasetError as err:
                decoded[rec.file] = None
                problems.append(Problem("error", str(rec.file), str(err)))
                continue
        size = decoded[rec.file]
        if size is not None and tuple(size) != (rec.height, rec.width):
            problems.append(
                Problem(
                    "warning",
                    str(rec.file),
                    f"annotated size {rec.width}x{rec.height} but decoded {size[1]}x{size[0]}",
                )
            )
    return problems


def empty_split_problems(
    records: Sequence[ImageRecord], problems: Sequence[Problem], where: str
) -> List[Problem]:
    """An error for a split with images but no box, unless the loader already said why."""
    if not records or any(len(r.labels) for r in records):
        return []
    if any("0 boxes in" in p.message for p in problems):  # folder formats name the cause
        return []
    return [Problem("error", where, f"0 boxes in {len(records)} images: nothing to train on")]


def check_split(
    fmt: str,
    source: Union[str, Path],
    split: Any = None,
    class_names: Optional[Sequence[str]] = None,
    images_dir: Optional[Union[str, Path]] = None,
    skip_unknown_classes: bool = False,
    decode_images: bool = True,
    progress: bool = False,
    decoded: Optional[Dict[Path, Optional[Tuple[int, int]]]] = None,
    annotations_dir: Optional[str] = None,
    data_yaml: Optional[Union[str, Path]] = None,
) -> SplitReport:
    """Records and problems of one split, read exactly as the training loaders read it.

    ``split`` is a VOC set name or (year, set) pair, a folder name for voc_flat/yolo (or a
    ``train``/``val``/``test`` key of ``data_yaml``), unused for COCO (``source`` is the
    json, ``images_dir`` its image folder).
    """
    report = SplitReport(str(split if split is not None else Path(source).name))
    names: Optional[Sequence[str]] = class_names
    try:
        if fmt == "voc":
            sets = resolve_image_sets(Path(source), [split])
            records, names, problems = build_voc_records(
                sets, class_names, skip_unknown_classes, True
            )
        elif fmt == "voc_flat":
            records, names, problems = build_flat_xml_records(
                source, [split], class_names, None, skip_unknown_classes, True, annotations_dir
            )
        elif fmt == "yolo":
            records, names, _, problems = build_yolo_records(
                source, [split], class_names, None, data_yaml
            )
        elif fmt == "coco":
            if images_dir is None:
                raise ValueError("checking a COCO json needs images_dir")
            _, _, records, names, problems, _ = build_coco_records(
                source, images_dir, skip_unknown_classes, False
            )
        else:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    except DatasetError as err:
        report.problems = [Problem("error", str(source), str(err))]
        return report
    if decode_images:
        problems += decode_problems(records, progress, decoded)
    problems += empty_split_problems(records, problems, str(source))
    if names is None:  # YOLO indices without a names file
        top = max((int(r.labels.max()) for r in records if len(r.labels)), default=-1)
        names = [f"class_{k}" for k in range(top + 1)]
    report.records, report.class_names, report.problems = records, names, as_errors(problems)
    return report


def check_voc(
    root: Union[str, Path],
    class_names: Optional[Sequence[str]],
    image_sets: Sequence[Any] = ("trainval",),
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """All problems of VOC-layout image sets (XML, classes, boxes, sizes, image decoding)."""
    decoded: Dict[Path, Optional[Tuple[int, int]]] = {}
    reports = [
        check_split("voc", root, s, class_names, None, False, decode_images, progress, decoded)
        for s in image_sets
    ]
    return unique_problems(p for r in reports for p in r.problems)


def check_coco(
    json_file: Union[str, Path],
    images_dir: Union[str, Path],
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """All problems of a COCO json + image folder (json structure, boxes, classes, images)."""
    return check_split(
        "coco", json_file, None, None, images_dir, False, decode_images, progress
    ).problems


def check_dataset(
    dataset_or_root: Union[VOCDetection, COCODataset, str, Path],
    fmt: Optional[str] = None,
    class_names: Optional[Sequence[str]] = None,
    image_sets: Sequence[Any] = ("trainval",),
    images_dir: Optional[Union[str, Path]] = None,
    decode_images: bool = True,
    progress: bool = False,
) -> List[Problem]:
    """Every problem of a dataset object, a VOC root or a COCO json (``fmt`` or a .json suffix)."""
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
    decoded: Dict[Path, Optional[Tuple[int, int]]] = {}
    reports = [
        check_split(fmt, path, s, class_names, None, False, decode_images, progress, decoded)
        for s in image_sets
    ]
    return unique_problems(p for r in reports for p in r.problems)


def unique_problems(problems) -> List[Problem]:
    """Each problem once: a file listed in several splits is reported once."""
    return list(dict.fromkeys(problems))


def format_split_summary(report: SplitReport) -> str:
    """Images, boxes per class and images without boxes of one split, for checking counts."""
    counts = np.zeros(max(len(report.class_names), 1), np.int64)
    empty = 0
    for rec in report.records:
        np.add.at(counts, rec.labels, 1)
        empty += len(rec.labels) == 0
    per_class = ", ".join(f"{n} {counts[k]}" for k, n in enumerate(report.class_names))
    return (
        f"split {report.name}: {len(report.records)} images, {int(counts.sum())} boxes "
        f"({per_class or 'no classes'}), {empty} images without boxes"
    )


def default_splits(fmt: str, root: Path, data_yaml: Optional[Path] = None) -> List[Any]:
    """Every split the data publish: VOC lists in ImageSets/Main; for folder layouts the
    data.yaml's ``train``/``val``/``test`` and every split folder that holds images."""
    if fmt == "voc":
        folder = root / "ImageSets" / "Main"
        found = sorted(p.stem for p in folder.glob("*.txt")) if folder.is_dir() else []
        return found or ["trainval"]
    splits: List[Any] = []
    yaml_file = find_data_yaml(root, data_yaml) if fmt == "yolo" else None
    covered = set()
    if yaml_file is not None:
        spec = read_data_yaml(yaml_file)
        for key in spec.splits:
            folders = spec.split_folders(key) or []
            splits.append(key)
            covered |= {f.resolve() for f in folders}
    for name in find_split_folders(root, fmt):
        if name == "." and fmt == "yolo":
            folder = root / "images"
        else:
            folder = root if name == "." else root / name
            if fmt == "yolo" and (folder / "images").is_dir():
                folder = folder / "images"
            elif fmt == "yolo":
                folder = root / "images" / name
        if folder.resolve() not in covered:
            splits.append(name)
    return list(dict.fromkeys(splits)) or ["."]


def _train_first(splits: Sequence[Any]) -> List[Any]:
    """The split training reads first, so its names number the others: trainval (VOC's
    training set, a superset of train and val), else train."""

    def rank(split: Any) -> int:
        name = split if isinstance(split, str) else str(split[-1])
        return {"trainval": 0, "train": 1}.get(name, 2)

    return sorted(splits, key=rank)


def check_folder(
    fmt: str,
    source: Union[str, Path],
    splits: Optional[Sequence[Any]] = None,
    class_names: Optional[Sequence[str]] = None,
    images_dir: Optional[Union[str, Path]] = None,
    skip_unknown_classes: bool = False,
    decode_images: bool = True,
    progress: bool = False,
    annotations_dir: Optional[str] = None,
) -> Tuple[List[Any], List[SplitReport]]:
    """(splits checked, one report per split) of a dataset on disk, read as training reads it.

    ``fmt`` is one of :data:`FORMATS`; ``source`` the VOC/folder root, a YOLO data.yaml, or the
    COCO json (with ``images_dir``). ``splits`` None: every split the data publish. A dataset
    whose splits cannot even be listed is one report with that error.
    """
    source, data_yaml = Path(source), None
    if fmt == "coco":
        splits = [None]
    else:
        if fmt == "yolo" and source.is_file():
            data_yaml, source = source, source.parent
        if not splits:
            try:
                splits = default_splits(fmt, source, data_yaml)
            except DatasetError as err:
                report = SplitReport(
                    source.name, problems=[Problem("error", str(source), str(err))]
                )
                return [], [report]
    names = list(class_names) if class_names else None
    decoded: Dict[Path, Optional[Tuple[int, int]]] = {}
    reports: List[SplitReport] = []
    for split in _train_first(splits) if fmt in ("voc", "voc_flat") else splits:
        report = check_split(
            fmt, source, split, names, images_dir, skip_unknown_classes,
            decode_images, progress, decoded, annotations_dir, data_yaml,
        )  # fmt: skip
        if names is None and fmt in ("voc", "voc_flat") and report.records:
            names = list(report.class_names)  # as training: the train split numbers the rest
        reports.append(report)
    return list(splits), reports

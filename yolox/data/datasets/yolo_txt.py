"""YOLO txt layout (YOLOv5/v8 exports): ``images/`` + ``labels/``, one ``class cx cy w h`` per line."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .data_yaml import (
    DataYaml,
    check_class_names,
    find_data_yaml,
    read_data_yaml,
    read_text_no_bom,
)
from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .folder_layout import (
    Holdout,
    list_images,
    refuse_same_stems,
    relative_id,
    resolve_split_folder,
    select_holdout,
)
from .image_io import image_size_from_header, read_image

__all__ = ["YOLODetection", "build_yolo_records", "label_path", "read_yolo_names"]

NAMES_FILES = ("classes.txt", "labels/classes.txt", "obj.names")


def label_path(image: Path) -> Path:
    """The label file of an image: the last ``images`` folder of its path becomes ``labels``
    (the YOLOv5 rule); an image outside any ``images`` folder has its .txt beside it."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def read_yolo_names(
    root: Path, data_yaml: Optional[Union[str, Path]] = None
) -> Tuple[Optional[Tuple[str, ...]], Optional[str]]:
    """(names, file): ``data_yaml``'s names when given, else the first names file at ``root``
    (classes.txt, labels/classes.txt, obj.names), else a data.yaml at or one level above it."""
    root = Path(root)
    if data_yaml is None:
        for rel in NAMES_FILES:
            path = root / rel
            if path.is_file():
                lines = read_text_no_bom(path).splitlines()
                return check_class_names([n for n in lines if n.strip()], path), str(path)
    found = find_data_yaml(root, data_yaml)
    if found is None:
        return None, None
    spec = read_data_yaml(found)
    return (spec.names, str(found)) if spec.names is not None else (None, None)


def _read_labels(
    path: Path, width: int, height: int, num_names: Optional[int], problems: List[Problem]
) -> Tuple[np.ndarray, np.ndarray, int]:
    """Corner boxes in pixels, class indices and the number of boxes with a coordinate > 1
    (not normalised: pixel coordinates?) of one label file (polygons become boxes)."""
    boxes, labels = [], []
    over_one = 0
    for number, line in enumerate(read_text_no_bom(path).splitlines()):
        fields = line.split()
        if not fields:
            continue
        where = f"{path}:{number + 1}"
        try:
            cls_value, coords = float(fields[0]), [float(v) for v in fields[1:]]
        except ValueError:
            problems.append(Problem("error", where, f"not numbers: {line.strip()!r}"))
            continue
        if len(coords) == 4:
            cx, cy, w, h = coords
            x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        elif len(coords) >= 6 and len(coords) % 2 == 0:  # a segmentation polygon
            xs, ys = coords[0::2], coords[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        else:
            problems.append(
                Problem("error", where, f"expected 'class cx cy w h', got {line.strip()!r}")
            )
            continue
        cls = int(cls_value)
        if cls != cls_value or cls < 0 or (num_names is not None and cls >= num_names):
            known = f" (the names file has {num_names})" if num_names is not None else ""
            problems.append(Problem("error", where, f"invalid class index {fields[0]}{known}"))
            continue
        over_one += max(abs(v) for v in coords) > 1.01
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
        labels.append(cls)
    return np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64), over_one


def _image_size(file: Path, problems: List[Problem]) -> Optional[Tuple[int, int]]:
    size = image_size_from_header(file)
    if size is not None:
        return size
    try:
        return read_image(file).shape[:2]
    except DatasetError as err:
        problems.append(Problem("warning", str(file), f"{err}; image skipped", True))
        return None


def _split_folders(root: Path, split: str, spec: Optional[DataYaml]) -> List[Path]:
    """The image folders of a split: named by the data.yaml when it has that key, else by
    the folder layout (``images/<split>``, ``<split>/images``, ``<split>``)."""
    if spec is not None:
        folders = spec.split_folders(split)
        if folders is not None:
            return folders
    return [resolve_split_folder(root, split, "yolo")]


def _orphan_labels(folders: Sequence[Path], files: Sequence[Path]) -> List[Problem]:
    """A warning per label file whose image is missing (YOLO trains nothing from it)."""
    used = {label_path(f) for f in files}
    label_dirs = {label_path(folder / "x.jpg").parent for folder in folders}
    orphans = [
        t
        for d in sorted(label_dirs)
        if d.is_dir()
        for t in sorted(d.glob("*.txt"))
        if t not in used and t.name != "classes.txt"
    ]
    return [Problem("warning", str(t), "no image for this label file; skipped") for t in orphans]


def _no_boxes_cause(folders: Sequence[Path], over_one: int, total: int) -> str:
    """The likely reason a split has images but no usable box."""
    if total and over_one == total:
        return (
            f"all {total} boxes have coordinates > 1: pixel coordinates? YOLO labels are "
            "normalised to 0..1 (x / image width)"
        )
    if total:
        return f"all {total} boxes were dropped (see the warnings above)"
    missing = [label_path(f / "x.jpg").parent for f in folders]
    missing = [d for d in missing if not d.is_dir()]
    if missing:
        there = missing[0].parent
        while not there.is_dir() and there != there.parent:
            there = there.parent
        siblings = sorted(p.name for p in there.iterdir() if p.is_dir())
        return (
            f"labels/ not found next to images/ (looked for {missing[0]}; folders in "
            f"{there}: {siblings}): name the label folder 'labels'"
        )
    return "every label file is empty or missing (images without a label file are background)"


def build_yolo_records(
    root: Union[str, Path],
    image_sets: Sequence[str],
    class_names: Optional[Sequence[str]] = None,
    holdout: Optional[Holdout] = None,
    data_yaml: Optional[Union[str, Path]] = None,
) -> Tuple[List[ImageRecord], Optional[Tuple[str, ...]], Optional[str], List[Problem]]:
    """(records, class names, where the names came from, problems) of YOLO split folders.

    ``class_names=None`` reads a names file (classes.txt, data.yaml ``names:``, ...); when
    there is none, names are None and class indices are only checked to be >= 0. A split
    named by the data.yaml (``train:``, ``val:``, ``test:``) is read from the yaml's folders.
    Boxes are corner pixels of the image as displayed (EXIF orientation applied, as YOLOv5
    does). A split without any usable box is an error that names the likely cause.
    """
    root = Path(root)
    yaml_file = find_data_yaml(root, data_yaml)
    spec = read_data_yaml(yaml_file) if yaml_file is not None else None
    source = "caller"
    if class_names is None:
        class_names, source = read_yolo_names(root, data_yaml)
    else:
        class_names = check_class_names(class_names, "class_names")
    num_names = len(class_names) if class_names is not None else None
    problems: List[Problem] = []
    folders: List[Path] = []
    for split in dict.fromkeys(image_sets):
        folders += _split_folders(root, split, spec)
    files: List[Path] = []
    for folder in dict.fromkeys(folders):
        files += list_images(folder)
    refuse_same_stems(files)
    problems += _orphan_labels(folders, files)
    records = []
    over_one = total = 0
    for file in select_holdout(files, root, holdout):
        size = _image_size(file, problems)
        if size is None:
            continue
        height, width = int(size[0]), int(size[1])
        labels_file = label_path(file)
        boxes = np.zeros((0, 4), np.float32)
        labels = np.zeros(0, np.int64)
        if labels_file.is_file():
            boxes, labels, over = _read_labels(labels_file, width, height, num_names, problems)
            over_one, total = over_one + over, total + len(labels)
        boxes, keep = clean_boxes(boxes, width, height, str(labels_file), problems)
        records.append(
            ImageRecord(
                file, height, width, boxes[keep], labels[keep],
                np.zeros(int(keep.sum()), bool), relative_id(file, root),
            )
        )  # fmt: skip
    if records and not any(len(r.labels) for r in records):
        cause = _no_boxes_cause(folders, over_one, total)
        where = ", ".join(str(f) for f in dict.fromkeys(folders))
        problems.append(Problem("error", where, f"0 boxes in {len(records)} images; {cause}"))
    if class_names is None:
        problems.append(
            Problem(
                "warning",
                str(root),
                f"no class names ({', '.join(NAMES_FILES)} here, or a data.yaml here or one "
                "folder up): the classes get generated names class_0.. (set data_yaml or "
                "class_names in the exp to name them)",
            )
        )
    names = tuple(class_names) if class_names is not None else None
    return records, names, source, problems


class YOLODetection(DetectionDataset):
    """A dataset in the YOLO txt layout, one split folder per entry of ``image_sets``.

    Split folders are looked up as ``images/<split>`` (YOLOv5/v8), ``<split>/images``
    (Roboflow) or ``<split>``; ``"."`` is ``images/`` itself. Images without a label file have
    no objects. Class names: ``class_names``, else a names file at the root (or
    ``data_yaml``: the export's data.yaml, whose ``train:``/``val:``/``test:`` folders then
    name the splits), else ``class_0..`` up to the highest index used
    (``class_names_source`` is then None).
    """

    def __init__(
        self,
        data_dir: Union[str, Path],
        image_sets: Sequence[str] = ("train",),
        img_size: Sequence[int] = (416, 416),
        preproc: Optional[Callable] = None,
        class_names: Optional[Sequence[str]] = None,
        cache: bool = False,
        cache_type: str = "ram",
        holdout: Optional[Holdout] = None,
        bad_image: str = "auto",
        cache_dir: Optional[Union[str, Path]] = None,
        data_yaml: Optional[Union[str, Path]] = None,
    ) -> None:
        self.root = Path(data_dir)
        self.image_set = [str(s) for s in image_sets]
        self.name = self.root.resolve().name
        records, names, source, problems = build_yolo_records(
            self.root, self.image_set, class_names, holdout, data_yaml
        )
        report_problems(problems, f"YOLODetection({self.root})")
        if names is None:
            top = max((int(r.labels.max()) for r in records if len(r.labels)), default=-1)
            names = tuple(f"class_{k}" for k in range(top + 1)) or ("class_0",)
        self.ids = [rec.img_id for rec in records]
        super().__init__(records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image)
        self.class_names_source = source
        self.problems = tuple(problems)

"""YOLO txt layout (YOLOv5/v8 exports): ``images/`` + ``labels/``, one ``class cx cy w h`` per line."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .folder_layout import Holdout, list_images, resolve_split_folder, select_holdout
from .image_io import image_size_from_header, read_image

__all__ = ["YOLODetection", "build_yolo_records", "label_path", "read_yolo_names"]

NAMES_FILES = ("classes.txt", "labels/classes.txt", "obj.names", "data.yaml", "dataset.yaml")


def label_path(image: Path) -> Path:
    """The label file of an image: the last ``images`` folder of its path becomes ``labels``
    (the YOLOv5 rule); an image outside any ``images`` folder has its .txt beside it."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def _yaml_names(text: str, path: Path) -> Optional[List[str]]:
    """The ``names:`` of a YOLO data yaml: a flow list, a block list or an index mapping."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("names:"):
            continue
        rest = line[len("names:") :].split(" #")[0].strip()
        if rest:
            try:
                value = ast.literal_eval(rest)
            except (ValueError, SyntaxError) as err:
                raise DatasetError(f"{path}: cannot read the names list {rest!r}") from err
            if isinstance(value, dict):
                return [str(value[k]) for k in sorted(value)]
            return [str(v) for v in value]
        names: dict = {}
        for sub in lines[i + 1 :]:
            if not sub.strip() or sub.lstrip().startswith("#"):
                continue
            if not sub[0].isspace():
                break
            item = sub.strip()
            if item.startswith("- "):
                names[len(names)] = item[2:]
            else:
                key, _, value = item.partition(":")
                names[int(key)] = value
        return [str(names[k]).strip().strip("'\"") for k in sorted(names)]
    return None


def read_yolo_names(root: Path) -> Tuple[Optional[Tuple[str, ...]], Optional[str]]:
    """(names, file) from the first names file found under ``root`` (see NAMES_FILES)."""
    for rel in NAMES_FILES:
        path = root / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".yaml":
            names = _yaml_names(text, path)
            if names is None:
                continue
        else:
            names = [line.strip() for line in text.splitlines() if line.strip()]
        return tuple(names), str(path)
    return None, None


def _read_labels(
    path: Path, width: int, height: int, num_names: Optional[int], problems: List[Problem]
) -> Tuple[np.ndarray, np.ndarray]:
    """Corner boxes in pixels and class indices of one label file (polygons become boxes)."""
    boxes, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
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
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
        labels.append(cls)
    return np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64)


def _image_size(file: Path, problems: List[Problem]) -> Optional[Tuple[int, int]]:
    size = image_size_from_header(file)
    if size is not None:
        return size
    try:
        return read_image(file).shape[:2]
    except DatasetError as err:
        problems.append(Problem("warning", str(file), f"{err}; image skipped", True))
        return None


def build_yolo_records(
    root: Union[str, Path],
    image_sets: Sequence[str],
    class_names: Optional[Sequence[str]] = None,
    holdout: Optional[Holdout] = None,
) -> Tuple[List[ImageRecord], Optional[Tuple[str, ...]], Optional[str], List[Problem]]:
    """(records, class names, where the names came from, problems) of YOLO split folders.

    ``class_names=None`` reads a names file (classes.txt, data.yaml ``names:``, ...); when
    there is none, names are None and class indices are only checked to be >= 0. Boxes are
    corner pixels of the image as displayed (EXIF orientation applied, as YOLOv5 does).
    """
    root = Path(root)
    source = "caller"
    if class_names is None:
        class_names, source = read_yolo_names(root)
    num_names = len(class_names) if class_names is not None else None
    problems: List[Problem] = []
    files: List[Path] = []
    for split in dict.fromkeys(image_sets):
        files += list_images(resolve_split_folder(root, split, "yolo"))
    records = []
    for file in select_holdout(files, root, holdout):
        size = _image_size(file, problems)
        if size is None:
            continue
        height, width = int(size[0]), int(size[1])
        labels_file = label_path(file)
        boxes = np.zeros((0, 4), np.float32)
        labels = np.zeros(0, np.int64)
        if labels_file.is_file():
            boxes, labels = _read_labels(labels_file, width, height, num_names, problems)
        boxes, keep = clean_boxes(boxes, width, height, str(labels_file), problems)
        records.append(
            ImageRecord(
                file, height, width, boxes[keep], labels[keep],
                np.zeros(int(keep.sum()), bool), str(file.relative_to(root)),
            )
        )  # fmt: skip
    names = tuple(str(n).strip() for n in class_names) if class_names is not None else None
    return records, names, source, problems


class YOLODetection(DetectionDataset):
    """A dataset in the YOLO txt layout, one split folder per entry of ``image_sets``.

    Split folders are looked up as ``images/<split>`` (YOLOv5/v8), ``<split>/images``
    (Roboflow) or ``<split>``; ``"."`` is ``images/`` itself. Images without a label file have
    no objects. Class names: ``class_names``, else a names file at the root, else
    ``class_0..`` up to the highest index used (``class_names_source`` is then None).
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
    ) -> None:
        self.root = Path(data_dir)
        self.image_set = [str(s) for s in image_sets]
        self.name = self.root.resolve().name
        records, names, source, problems = build_yolo_records(
            self.root, self.image_set, class_names, holdout
        )
        report_problems(problems, f"YOLODetection({self.root})")
        if names is None:
            top = max((int(r.labels.max()) for r in records if len(r.labels)), default=-1)
            names = tuple(f"class_{k}" for k in range(top + 1)) or ("class_0",)
        self.ids = [rec.img_id for rec in records]
        super().__init__(records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image)
        self.class_names_source = source
        self.problems = tuple(problems)

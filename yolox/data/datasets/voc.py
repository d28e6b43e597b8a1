"""PASCAL VOC-layout detection dataset: any root with Annotations/, JPEGImages/, ImageSets/Main/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .image_io import image_size_from_header, read_image
from .voc_classes import VOC_CLASSES
from .voc_xml import parse_voc_xml

__all__ = [
    "VOCDetection",
    "read_image_set",
    "normalize_image_sets",
    "build_voc_records",
    "resolve_image_sets",
]

ImageSet = Union[str, Tuple[str, str]]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG", ".bmp", ".webp")


def normalize_image_sets(image_sets: Union[ImageSet, Sequence[ImageSet]]) -> List[ImageSet]:
    """Accept one set ("val" or ("2007", "test")) or a list of them; return a list."""
    if isinstance(image_sets, str):
        return [image_sets]
    if (
        isinstance(image_sets, tuple)
        and len(image_sets) == 2
        and all(isinstance(s, str) for s in image_sets)
        and image_sets[0].isdigit()
    ):
        return [image_sets]
    return [e if isinstance(e, str) else (str(e[0]), str(e[1])) for e in image_sets]


def resolve_image_sets(data_dir: Path, image_sets: Sequence[ImageSet]) -> List[Tuple[Path, str]]:
    """Map each image set to (VOC-layout root, set name).

    A plain name ("trainval") means ``data_dir`` itself is the VOC root (e.g. BCCD); a
    (year, name) pair means ``data_dir/VOC<year>`` as in the classic VOCdevkit.
    """
    resolved = []
    for entry in normalize_image_sets(image_sets):
        if isinstance(entry, str):
            resolved.append((data_dir, entry))
        else:
            year, name = entry
            resolved.append((data_dir / f"VOC{year}", str(name)))
    return resolved


def read_image_set(root: Path, name: str) -> List[str]:
    """Image ids listed in ``root/ImageSets/Main/<name>.txt`` (first column, blank lines skipped)."""
    path = root / "ImageSets" / "Main" / f"{name}.txt"
    if not path.is_file():
        folder = path.parent
        available = sorted(p.stem for p in folder.glob("*.txt")) if folder.is_dir() else []
        raise DatasetError(f"image set file not found: {path} (available: {available or 'none'})")
    ids = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if parts:
            ids.append(parts[0])
    return ids


def _find_image(root: Path, image_id: str, xml_filename: Optional[str]) -> Optional[Path]:
    folder = root / "JPEGImages"
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{image_id}{suffix}"
        if candidate.is_file():
            return candidate
    if xml_filename:
        candidate = folder / Path(xml_filename.strip()).name
        if candidate.is_file():
            return candidate
    return None


def _image_size(
    file: Path, xml_h: int, xml_w: int, verify: bool, problems: List[Problem]
) -> Optional[Tuple[int, int]]:
    """The true (h, w): the header (or a full decode) wins over a 0x0 or wrong XML <size>."""
    if not verify and xml_h > 0 and xml_w > 0:
        return xml_h, xml_w
    size = image_size_from_header(file)
    if size is None:
        try:
            size = read_image(file).shape[:2]
        except DatasetError as err:
            problems.append(Problem("warning", str(file), f"{err}; image skipped", True))
            return None
    if xml_h <= 0 or xml_w <= 0:
        problems.append(
            Problem(
                "warning",
                str(file),
                f"XML <size> is {xml_w}x{xml_h}; using the image size {size[1]}x{size[0]}",
            )
        )
    elif (xml_h, xml_w) != tuple(size):
        problems.append(
            Problem(
                "warning",
                str(file),
                f"XML <size> {xml_w}x{xml_h} differs from the image {size[1]}x{size[0]}; using the image size",
            )
        )
    return int(size[0]), int(size[1])


def build_voc_records(
    sets: Sequence[Tuple[Path, str]],
    class_names: Sequence[str],
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = True,
) -> Tuple[List[ImageRecord], List[Problem]]:
    """Parse every listed XML into cleaned records (boxes 0-based: XML value minus 1).

    Malformed or missing XML files and unknown class names are errors (all collected);
    missing images, wrong sizes and repaired boxes are warnings.
    """
    if isinstance(class_names, str) or not class_names:
        raise ValueError(f"class_names must be a non-empty sequence of names, got {class_names!r}")
    names = [str(n).strip() for n in class_names]
    if len(set(names)) != len(names):
        raise ValueError(f"class_names has duplicates: {names}")
    label_of = {n: i for i, n in enumerate(names)}
    problems: List[Problem] = []
    unknown: Dict[str, List[str]] = {}
    records = []
    for root, set_name in sets:
        for image_id in read_image_set(root, set_name):
            xml_path = root / "Annotations" / f"{image_id}.xml"
            try:
                ann = parse_voc_xml(xml_path)
            except DatasetError as err:
                problems.append(Problem("error", str(xml_path), str(err)))
                continue
            file = _find_image(root, image_id, ann.filename)
            if file is None:
                problems.append(
                    Problem(
                        "warning",
                        str(root / "JPEGImages" / f"{image_id}.jpg"),
                        "image file not found; image skipped",
                        True,
                    )
                )
                continue
            size = _image_size(file, ann.height, ann.width, verify_image_sizes, problems)
            if size is None:
                continue
            boxes, labels, difficult = [], [], []
            for obj in ann.objects:
                if obj.raw_name != obj.name:
                    problems.append(
                        Problem(
                            "warning",
                            str(xml_path),
                            f"class name {obj.raw_name!r} has stray whitespace; stripped",
                        )
                    )
                if obj.name not in label_of:
                    unknown.setdefault(obj.name, []).append(str(xml_path))
                    continue
                boxes.append([v - 1.0 for v in obj.box])
                labels.append(label_of[obj.name])
                difficult.append(obj.difficult)
            boxes_np, keep = clean_boxes(
                np.array(boxes, np.float32), size[1], size[0], str(xml_path), problems, 1.0
            )
            records.append(
                ImageRecord(
                    file, size[0], size[1], boxes_np[keep],
                    np.array(labels, np.int64)[keep], np.array(difficult, bool)[keep], image_id,
                )
            )  # fmt: skip
    if unknown:
        listing = ", ".join(
            f"{name!r} ({len(files)}x, e.g. {files[0]})" for name, files in sorted(unknown.items())
        )
        if skip_unknown_classes:
            problems.append(
                Problem(
                    "warning", "<annotations>", f"skipped objects of unknown classes: {listing}"
                )
            )
        else:
            problems.append(
                Problem(
                    "error",
                    "<annotations>",
                    f"unknown class names {sorted(unknown)} (known: {names}): {listing}; pass skip_unknown_classes=True to skip them",
                )
            )
    return records, problems


class VOCDetection(DetectionDataset):
    """VOC-layout dataset with the official YOLOX item protocol and caller-given class names.

    ``image_sets`` is a list of set names under ``data_dir`` (any VOC-layout root) or of
    (year, name) pairs under ``data_dir/VOC<year>``. Boxes are 0-based (XML value - 1).
    ``keep_difficult=False`` removes difficult objects from training targets only;
    :meth:`annotation_for_eval` always returns them, flagged.
    """

    def __init__(
        self,
        data_dir: Optional[Union[str, Path]] = None,
        image_sets: Sequence[ImageSet] = ("trainval",),
        img_size: Sequence[int] = (416, 416),
        preproc: Optional[Callable] = None,
        class_names: Sequence[str] = VOC_CLASSES,
        cache: bool = False,
        cache_type: str = "ram",
        dataset_name: str = "VOC0712",
        skip_unknown_classes: bool = False,
        keep_difficult: bool = True,
        verify_image_sizes: bool = True,
        bad_image: str = "auto",
        cache_dir: Optional[Union[str, Path]] = None,
    ) -> None:
        if data_dir is None:
            from ..dataloading import get_yolox_datadir

            data_dir = os.path.join(get_yolox_datadir(), "VOCdevkit")
        self.root = Path(data_dir)
        self.image_set = normalize_image_sets(image_sets)
        self.name = dataset_name
        sets = resolve_image_sets(self.root, self.image_set)
        records, problems = build_voc_records(
            sets, class_names, skip_unknown_classes, verify_image_sizes
        )
        report_problems(problems, f"VOCDetection({self.root})")
        self._eval_annotations = [
            (r.boxes.copy(), r.labels.copy(), r.difficult.copy()) for r in records
        ]
        if not keep_difficult:
            for r in records:
                easy = ~r.difficult
                r.boxes, r.labels, r.difficult = r.boxes[easy], r.labels[easy], r.difficult[easy]
        self.ids = [(str(rec.file.parent.parent), rec.img_id) for rec in records]
        self._classes = tuple(str(n).strip() for n in class_names)
        super().__init__(
            records, self._classes, img_size, preproc, cache, cache_type, cache_dir, bad_image
        )

    def default_cache_dir(self) -> Path:
        return self.root / f"img_resized_cache_{self.name}_{self.img_size[0]}x{self.img_size[1]}"

    def annotation_for_eval(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes [n, 4] x1y1x2y2 in original 0-based pixels, labels [n] int, difficult [n] bool).

        Same coordinate convention as the training targets and the model's predictions, so
        compare predictions with these directly (no +1 shift).
        """
        boxes, labels, difficult = self._eval_annotations[index]
        return boxes.astype(np.float32), labels.astype(np.int64), difficult.astype(bool)

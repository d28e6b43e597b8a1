"""PASCAL VOC-layout detection dataset: any root with Annotations/, JPEGImages/, ImageSets/Main/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .image_io import image_size_from_header, read_image
from .voc_xml import VocAnnotation, parse_voc_xml

__all__ = [
    "VOCDetection",
    "read_image_set",
    "normalize_image_sets",
    "build_voc_records",
    "resolve_image_sets",
    "records_from_xml",
    "sorted_xml_names",
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
        hint = ""
        if not folder.is_dir():
            hint = (
                f"; {root} has no ImageSets/Main: for images with XMLs beside them or in a "
                "sibling annotations/ folder use the voc_flat layout (exp: "
                "self.dataset_format = 'voc_flat'; checker: --voc-flat)"
            )
        raise DatasetError(
            f"image set file not found: {path} (available: {available or 'none'}){hint}"
        )
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
    file: Path,
    xml_h: int,
    xml_w: int,
    verify: bool,
    problems: List[Problem],
    has_xml: bool = True,
) -> Optional[Tuple[int, int]]:
    """The true (h, w): the header (or a full decode) wins over a 0x0 or wrong XML <size>.

    ``has_xml=False`` (an image without an annotation file) only needs the image's own size.
    """
    if not verify and xml_h > 0 and xml_w > 0:
        return xml_h, xml_w
    size = image_size_from_header(file)
    if size is None:
        try:
            size = read_image(file).shape[:2]
        except DatasetError as err:
            problems.append(Problem("warning", str(file), f"{err}; image skipped", True))
            return None
    if has_xml and (xml_h <= 0 or xml_w <= 0):
        problems.append(
            Problem(
                "warning",
                str(file),
                f"XML <size> is {xml_w}x{xml_h}; using the image size {size[1]}x{size[0]}",
            )
        )
    elif has_xml and (xml_h, xml_w) != tuple(size):
        problems.append(
            Problem(
                "warning",
                str(file),
                f"XML <size> {xml_w}x{xml_h} differs from the image {size[1]}x{size[0]}; using the image size",
            )
        )
    return int(size[0]), int(size[1])


def sorted_xml_names(annotations: Iterable[VocAnnotation]) -> Tuple[str, ...]:
    """Every class name used in the XML files, sorted (for VOC itself: the official 20 in order)."""
    return tuple(sorted({obj.name for ann in annotations for obj in ann.objects}))


XML_NAMES_SOURCE = "the XML <name>s (sorted)"

#: (image id, parsed XML or None when the image has no annotation file, image file or None)
ParsedImage = Tuple[Any, Optional[VocAnnotation], Optional[Path]]


def records_from_xml(
    parsed: Sequence[ParsedImage],
    class_names: Sequence[str],
    problems: List[Problem],
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = True,
) -> List[ImageRecord]:
    """Cleaned records (boxes 0-based: XML value minus 1) of parsed VOC XML files.

    Unknown class names are one error listing them all (a warning with
    ``skip_unknown_classes``); missing images, wrong sizes and repaired boxes are warnings.
    """
    if isinstance(class_names, str) or not class_names:
        raise DatasetError(
            f"class_names must be a non-empty sequence of names, got {class_names!r}"
        )
    names = [str(n).strip() for n in class_names]
    if len(set(names)) != len(names):
        raise DatasetError(f"class_names has duplicates: {names}")
    label_of = {n: i for i, n in enumerate(names)}
    unknown: Dict[str, List[str]] = {}
    records = []
    for image_id, ann, file in parsed:
        if file is None:
            continue
        xml_h, xml_w = (ann.height, ann.width) if ann is not None else (0, 0)
        size = _image_size(file, xml_h, xml_w, verify_image_sizes, problems, ann is not None)
        if size is None:
            continue
        boxes, labels, difficult = [], [], []
        source = str(ann.path) if ann is not None else str(file)
        for obj in ann.objects if ann is not None else []:
            if obj.raw_name != obj.name:
                problems.append(
                    Problem(
                        "warning",
                        source,
                        f"class name {obj.raw_name!r} has stray whitespace; stripped",
                    )
                )
            if obj.name not in label_of:
                unknown.setdefault(obj.name, []).append(source)
                continue
            boxes.append([v - 1.0 for v in obj.box])
            labels.append(label_of[obj.name])
            difficult.append(obj.difficult)
        boxes_np, keep = clean_boxes(
            np.array(boxes, np.float32), size[1], size[0], source, problems, 1.0
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
                    f"unknown class names {sorted(unknown)} (known: {names}): {listing}; "
                    "add them to the class names, or skip them (exp field "
                    "skip_unknown_classes=True, checker flag --skip-unknown-classes)",
                )
            )
    return records


def _parse_voc_sets(sets: Sequence[Tuple[Path, str]], problems: List[Problem]) -> List[ParsedImage]:
    """Each listed id once per call, with its parsed XML and image file (None when missing)."""
    parsed: List[ParsedImage] = []
    seen = set()
    for root, set_name in sets:
        for image_id in read_image_set(root, set_name):
            xml_path = root / "Annotations" / f"{image_id}.xml"
            if xml_path in seen:
                continue
            seen.add(xml_path)
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
            parsed.append((image_id, ann, file))
    return parsed


def build_voc_records(
    sets: Sequence[Tuple[Path, str]],
    class_names: Optional[Sequence[str]],
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = True,
) -> Tuple[List[ImageRecord], Tuple[str, ...], List[Problem]]:
    """(records, class names, problems) of VOC-layout image sets; an id listed twice counts once.

    ``class_names=None`` takes the names from the XML files of these sets, sorted.
    Malformed or missing XML files and unknown class names are errors (all collected).
    """
    problems: List[Problem] = []
    parsed = _parse_voc_sets(sets, problems)
    if class_names is None:
        class_names = sorted_xml_names(ann for _, ann, _ in parsed if ann is not None)
        if not class_names:
            problems.append(Problem("error", "<annotations>", "no object in any XML file"))
            return [], (), problems
    records = records_from_xml(
        parsed, class_names, problems, skip_unknown_classes, verify_image_sizes
    )
    return records, tuple(str(n).strip() for n in class_names), problems


class VOCDetection(DetectionDataset):
    """VOC-layout dataset with the official YOLOX item protocol.

    ``image_sets`` is a list of set names under ``data_dir`` (any VOC-layout root) or of
    (year, name) pairs under ``data_dir/VOC<year>``. Boxes are 0-based (XML value - 1).
    ``class_names=None`` takes the names from these sets' XML files, sorted (for PASCAL VOC
    that is the official 20-class order). ``keep_difficult=False`` removes difficult objects
    from training targets only; :meth:`annotation_for_eval` always returns them, flagged.
    The disk cache is named after ``dataset_name`` (default: the folder's name).
    """

    def __init__(
        self,
        data_dir: Optional[Union[str, Path]] = None,
        image_sets: Sequence[ImageSet] = ("trainval",),
        img_size: Sequence[int] = (416, 416),
        preproc: Optional[Callable] = None,
        class_names: Optional[Sequence[str]] = None,
        cache: bool = False,
        cache_type: str = "ram",
        dataset_name: Optional[str] = None,
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
        self.name = dataset_name or self.root.resolve().name
        sets = resolve_image_sets(self.root, self.image_set)
        records, names, problems = build_voc_records(
            sets, class_names, skip_unknown_classes, verify_image_sizes
        )
        report_problems(problems, f"VOCDetection({self.root})")
        self.ids = [(str(rec.file.parent.parent), rec.img_id) for rec in records]
        self._classes = names
        super().__init__(
            records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image,
            keep_difficult=keep_difficult,
        )  # fmt: skip
        self.class_names_source = "caller" if class_names is not None else XML_NAMES_SOURCE
        self.problems = tuple(problems)

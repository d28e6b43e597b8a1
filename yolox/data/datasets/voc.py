"""PASCAL VOC-layout detection dataset: any root with Annotations/, JPEGImages/, ImageSets/Main/."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from yolox.utils.boxes import letterbox_ratio
from yolox.utils.voc_metric import VOCAnnotations, VOCDetections, voc_evaluate

from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .image_io import image_size_from_header, read_image
from .voc_xml import VocAnnotation, parse_voc_xml

__all__ = [
    "AnnotationTransform",
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


class AnnotationTransform:
    """Official's XML-to-target step: ``(target [n, 5] (x1, y1, x2, y2, class), (height, width))``.

    Corners are the XML's 1-based pixel values minus 1 (``int(float(v)) - 1``, as official);
    ``class_to_ind`` maps names to indices (default: the 20 PASCAL VOC classes in order);
    difficult objects are left out unless ``keep_difficult``.
    """

    def __init__(
        self, class_to_ind: Optional[Dict[str, int]] = None, keep_difficult: bool = True
    ) -> None:
        if class_to_ind is None:
            from .voc_classes import VOC_CLASSES

            class_to_ind = {name: i for i, name in enumerate(VOC_CLASSES)}
        self.class_to_ind = dict(class_to_ind)
        self.keep_difficult = keep_difficult

    def __call__(self, target: ET.Element) -> Tuple[np.ndarray, Tuple[int, int]]:
        rows = []
        for obj in target.iter("object"):
            flag = obj.find("difficult")
            difficult = flag is not None and flag.text is not None and int(flag.text) == 1
            if difficult and not self.keep_difficult:
                continue
            name = (obj.find("name").text or "").strip()
            box = obj.find("bndbox")
            corners = [int(float(box.find(t).text)) - 1 for t in ("xmin", "ymin", "xmax", "ymax")]
            rows.append(corners + [self.class_to_ind[name]])
        size = target.find("size")
        height, width = int(size.find("height").text), int(size.find("width").text)
        return np.array(rows, dtype=np.float64).reshape(-1, 5), (height, width)


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
        target_transform: Optional[AnnotationTransform] = None,
    ) -> None:
        if data_dir is None:
            from ..dataloading import get_yolox_datadir

            data_dir = os.path.join(get_yolox_datadir(), "VOCdevkit")
        self.root = Path(data_dir)
        # official attribute names: ids are (VOC root, image id), so "%s" pairs fill these
        self._annopath = os.path.join("%s", "Annotations", "%s.xml")
        self._imgpath = os.path.join("%s", "JPEGImages", "%s.jpg")
        self.image_set = normalize_image_sets(image_sets)
        self.name = dataset_name or self.root.resolve().name
        sets = resolve_image_sets(self.root, self.image_set)
        records, names, problems = build_voc_records(
            sets, class_names, skip_unknown_classes, verify_image_sizes
        )
        report_problems(problems, f"VOCDetection({self.root})")
        self.ids = [(str(rec.file.parent.parent), rec.img_id) for rec in records]
        self._classes = names
        # The records already hold what the built-in transform gives (cleaned); another
        # transform (official's constructor argument) is run on each XML instead.
        self._records_transform = AnnotationTransform(
            {n: i for i, n in enumerate(names)}, keep_difficult
        )
        self.target_transform = target_transform or self._records_transform
        super().__init__(
            records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image,
            keep_difficult=keep_difficult,
        )  # fmt: skip
        self.class_names_source = "caller" if class_names is not None else XML_NAMES_SOURCE
        self.problems = tuple(problems)

    # -------------------------------------------------------------- official subclass hooks
    def _annotation(self, index: int) -> Tuple[np.ndarray, Tuple[int, int], Tuple[int, int], str]:
        """Every annotation tuple comes from :meth:`load_anno_from_ids`, so overrides take effect."""
        found = tuple(self.load_anno_from_ids(index))
        if len(found) == 3:  # official's VOC tuple has no file name
            found = (*found, self.records[index].file.name)
        return found  # type: ignore[return-value]

    def load_anno_from_ids(self, index: int) -> Tuple[Any, ...]:
        """``(target [n, 5] at img_size, (h, w), (resized h, w)[, file name])`` of image ``index``.

        Official's hook (overridable). With a ``target_transform`` of the caller's, the XML
        root goes through it, as official does; otherwise the cleaned records are used.
        """
        if self.target_transform is self._records_transform:
            return super()._annotation(index)
        root = ET.parse(self._annopath % self.ids[index]).getroot()
        target, (height, width) = self.target_transform(root)
        r = letterbox_ratio(self.img_size, height, width)
        target = np.asarray(target, dtype=np.float32).reshape(-1, 5).copy()
        target[:, :4] *= r
        return target, (height, width), (int(height * r), int(width * r))

    def _metric(self) -> str:
        """VOC2007's 11-point AP for sets of years before 2010 (as official), else area AP."""
        first = self.image_set[0] if self.image_set else None
        if isinstance(first, tuple) and first[0].isdigit() and int(first[0]) >= 2010:
            return "voc10"
        return "voc07"

    def evaluate_detections(
        self, all_boxes: Sequence[Sequence[Any]], output_dir: Optional[str] = None
    ) -> Tuple[float, float]:
        """(mAP50:95, mAP50) of ``all_boxes[class][image]`` = [k, 5] (x1, y1, x2, y2, score).

        Official's evaluation entry; scored by the same code as VOCEvaluator. With
        ``output_dir`` the detections are also written there as official's
        ``comp4_det_test_<class>.txt`` files (1-based corners, as the devkit reads them).
        """
        per_image = []
        for cls, by_image in enumerate(all_boxes):
            for image, dets in enumerate(by_image):
                dets = np.asarray(dets, dtype=np.float64).reshape(-1, 5)
                if len(dets):
                    labels = np.full(len(dets), cls, dtype=np.int64)
                    per_image.append((image, dets[:, :4], dets[:, 4], labels))
        detections = VOCDetections.from_per_image(per_image)
        truth = VOCAnnotations.from_per_image(
            [self.annotation_for_eval(i) for i in range(len(self))]
        )
        result = voc_evaluate(
            detections, truth, self.num_classes, metric=self._metric(), class_names=self.class_names
        )
        if output_dir is not None:
            self._write_results(all_boxes, output_dir)
        return result.map50_95, result.map50

    def _write_results(self, all_boxes: Sequence[Sequence[Any]], output_dir: str) -> None:
        os.makedirs(output_dir, exist_ok=True)
        for cls, name in enumerate(self.class_names):
            path = os.path.join(output_dir, f"comp4_det_test_{name}.txt")
            with open(path, "w") as f:
                for image, dets in enumerate(all_boxes[cls]):
                    for x1, y1, x2, y2, score in np.asarray(dets, np.float64).reshape(-1, 5):
                        f.write(
                            f"{self.ids[image][1]} {score:.3f} {x1 + 1:.1f} {y1 + 1:.1f} "
                            f"{x2 + 1:.1f} {y2 + 1:.1f}\n"
                        )

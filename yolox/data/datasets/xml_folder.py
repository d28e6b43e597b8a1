"""Flat VOC-XML layout: images with LabelImg / Pascal-VOC XML files beside them (no ImageSets)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

from .detection_base import DetectionDataset, ImageRecord
from .errors import DatasetError, Problem, report_problems
from .folder_layout import Holdout, list_images, resolve_split_folder, select_holdout
from .voc import XML_NAMES_SOURCE, ParsedImage, records_from_xml, sorted_xml_names
from .voc_xml import parse_voc_xml

__all__ = ["VOCFlatDetection", "build_flat_xml_records"]


def _parse_folder(folder: Path, root: Path, problems: List[Problem]) -> List[ParsedImage]:
    """(relative path, XML or None, image) per image; XML files without an image are warnings."""
    parsed: List[ParsedImage] = []
    stems = set()
    for image in list_images(folder):
        stems.add(image.stem)
        xml_path = image.with_suffix(".xml")
        ann = None
        if xml_path.is_file():
            try:
                ann = parse_voc_xml(xml_path)
            except DatasetError as err:
                problems.append(Problem("error", str(xml_path), str(err)))
                continue
        parsed.append((str(image.relative_to(root)), ann, image))
    for xml_path in sorted(folder.glob("*.xml")):
        if xml_path.stem not in stems:
            problems.append(
                Problem("warning", str(xml_path), "no image beside this XML; skipped", True)
            )
    return parsed


def build_flat_xml_records(
    root: Union[str, Path],
    image_sets: Sequence[str],
    class_names: Optional[Sequence[str]] = None,
    holdout: Optional[Holdout] = None,
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = True,
) -> Tuple[List[ImageRecord], Tuple[str, ...], List[Problem]]:
    """(records, class names, problems) of the split folders ``image_sets`` under ``root``.

    An image without an XML file is an image without objects (LabelImg writes no file for
    it). ``class_names=None`` takes the names from every XML of these folders, sorted, before
    the hold-out split, so that both sides of the split number the classes alike.
    """
    root = Path(root)
    problems: List[Problem] = []
    parsed: List[ParsedImage] = []
    for split in dict.fromkeys(image_sets):  # each folder once
        parsed += _parse_folder(resolve_split_folder(root, split, "voc_flat"), root, problems)
    if class_names is None:
        class_names = sorted_xml_names(ann for _, ann, _ in parsed if ann is not None)
        if not class_names:
            raise DatasetError(f"no object in any XML file of {root} (splits {list(image_sets)})")
    kept = set(select_holdout([file for _, _, file in parsed], root, holdout))
    parsed = [p for p in parsed if p[2] in kept]
    records = records_from_xml(
        parsed, class_names, problems, skip_unknown_classes, verify_image_sizes
    )
    return records, tuple(str(n).strip() for n in class_names), problems


class VOCFlatDetection(DetectionDataset):
    """Images and their XML files in the same folder, one folder per split (``"."``: the root).

    Typical sources: LabelImg's Pascal-VOC output, Roboflow's "Pascal VOC" export
    (``train/``, ``valid/``, ``test/``). ``holdout=("val", 0.2)`` keeps the images of a
    deterministic 20 % hold-out of ``image_sets`` (``("train", 0.2)``: the other 80 %).
    Boxes are 0-based (XML value - 1), as in :class:`VOCDetection`.
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
        skip_unknown_classes: bool = False,
        keep_difficult: bool = True,
        verify_image_sizes: bool = True,
        bad_image: str = "auto",
        cache_dir: Optional[Union[str, Path]] = None,
    ) -> None:
        self.root = Path(data_dir)
        self.image_set = [str(s) for s in image_sets]
        self.name = self.root.resolve().name
        records, names, problems = build_flat_xml_records(
            self.root, self.image_set, class_names, holdout, skip_unknown_classes,
            verify_image_sizes,
        )  # fmt: skip
        report_problems(problems, f"VOCFlatDetection({self.root})")
        self.ids = [rec.img_id for rec in records]
        super().__init__(
            records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image,
            keep_difficult=keep_difficult,
        )  # fmt: skip
        self.class_names_source = "caller" if class_names is not None else XML_NAMES_SOURCE
        self.problems = tuple(problems)

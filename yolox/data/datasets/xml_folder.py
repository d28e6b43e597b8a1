"""Flat VOC-XML layout: images with LabelImg / Pascal-VOC XML files beside them (no ImageSets)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .detection_base import DetectionDataset, ImageRecord
from .errors import DatasetError, Problem, report_problems
from .folder_layout import (
    Holdout,
    list_images,
    refuse_same_stems,
    relative_id,
    resolve_split_folder,
    select_holdout,
    subfolder_images,
)
from .voc import XML_NAMES_SOURCE, ParsedImage, records_from_xml, sorted_xml_names
from .voc_xml import parse_voc_xml

__all__ = ["VOCFlatDetection", "build_flat_xml_records"]


#: sibling folders that hold the XML files of an ``images/`` folder, in the order tried
ANNOTATION_FOLDERS = ("annotations", "annots", "Annotations")


def xml_folders(folder: Path, annotations_dir: Optional[Union[str, Path]] = None) -> List[Path]:
    """Folders that may hold the XMLs of the images in ``folder``, in the order tried.

    The folder itself (LabelImg), then a sibling (``images/`` + ``annotations/``), then the
    mirror of an ``images/<split>`` folder (``annotations/<split>``). ``annotations_dir``
    (an exp field) replaces the sibling names; an absolute path is used as it is.
    """
    names = ANNOTATION_FOLDERS if annotations_dir is None else (str(annotations_dir),)
    if annotations_dir is not None and Path(annotations_dir).is_absolute():
        return [folder, Path(annotations_dir)]
    found = [folder] + [folder.parent / n for n in names]
    parts = list(folder.parts)
    if "images" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("images")
        found += [Path(*parts[:i], n, *parts[i + 1 :]) for n in names]
    return list(dict.fromkeys(found))


def _xml_index(folders: Sequence[Path]) -> Dict[str, Path]:
    """stem -> XML file (any case of ``.xml``), the first folder that has the stem wins."""
    index: Dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.suffix.lower() == ".xml":
                    index.setdefault(path.stem, path)
    return index


def _parse_folder(
    folder: Path,
    root: Path,
    problems: List[Problem],
    annotations_dir: Optional[Union[str, Path]] = None,
) -> List[ParsedImage]:
    """(relative path, XML or None, image) per image; XML files without an image are warnings."""
    parsed: List[ParsedImage] = []
    images = list_images(folder)
    refuse_same_stems(images)
    xmls = _xml_index(xml_folders(folder, annotations_dir))
    for image in images:
        xml_path = xmls.get(image.stem)
        ann = None
        if xml_path is not None:
            try:
                ann = parse_voc_xml(xml_path)
            except DatasetError as err:
                problems.append(Problem("error", str(xml_path), str(err)))
                continue
        parsed.append((relative_id(image, root), ann, image))
    stems = {image.stem for image in images}
    for stem, xml_path in sorted(xmls.items()):
        if stem not in stems:
            problems.append(
                Problem("warning", str(xml_path), "no image beside this XML; skipped", True)
            )
    nested = subfolder_images(folder)
    if nested:
        problems.append(
            Problem(
                "warning",
                str(folder),
                f"{nested} images in sub-folders are not read (a split is one folder): name "
                "those folders in train_sets/val_sets, or move the images up",
            )
        )
    return parsed


def _no_boxes_message(
    folders: Sequence[Path], images: int, has_xml: bool, has_objects: bool = False
) -> str:
    tried = ", ".join(
        f"{f.name}/" for f in dict.fromkeys(x for d in folders for x in xml_folders(d)[1:])
    )
    if has_objects:
        return (
            f"0 boxes in {images} images: every <object> was dropped (skipped classes or "
            "degenerate boxes, see the warnings)"
        )
    if has_xml:
        return f"0 boxes in {images} images: the XML files hold no <object>"
    return (
        f"0 boxes in {images} images: no XML file beside the images nor in {tried}; "
        "if the XMLs are in another folder, set self.annotations_dir = '<that folder>' in "
        "the exp (checker: --annotations-dir)"
    )


def build_flat_xml_records(
    root: Union[str, Path],
    image_sets: Sequence[str],
    class_names: Optional[Sequence[str]] = None,
    holdout: Optional[Holdout] = None,
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = True,
    annotations_dir: Optional[Union[str, Path]] = None,
) -> Tuple[List[ImageRecord], Tuple[str, ...], List[Problem]]:
    """(records, class names, problems) of the split folders ``image_sets`` under ``root``.

    An image without an XML file is an image without objects (LabelImg writes no file for
    it). ``class_names=None`` takes the names from every XML of these folders, sorted, before
    the hold-out split, so that both sides of the split number the classes alike. A split
    without any box is an error naming the folders tried for the XMLs.
    """
    root = Path(root)
    problems: List[Problem] = []
    parsed: List[ParsedImage] = []
    folders = [resolve_split_folder(root, s, "voc_flat") for s in dict.fromkeys(image_sets)]
    for folder in dict.fromkeys(folders):  # each folder once
        parsed += _parse_folder(folder, root, problems, annotations_dir)
    has_xml = any(ann is not None for _, ann, _ in parsed)
    if class_names is None:
        class_names = sorted_xml_names(ann for _, ann, _ in parsed if ann is not None)
        if not class_names:
            raise DatasetError(
                f"{root} (splits {list(image_sets)}): {_no_boxes_message(folders, len(parsed), has_xml)}"
            )
    kept = set(select_holdout([file for _, _, file in parsed], root, holdout))
    parsed = [p for p in parsed if p[2] in kept]
    has_objects = any(ann is not None and ann.objects for _, ann, _ in parsed)
    records = records_from_xml(
        parsed, class_names, problems, skip_unknown_classes, verify_image_sizes
    )
    if records and not any(len(r.labels) for r in records):
        where = ", ".join(str(f) for f in dict.fromkeys(folders))
        message = _no_boxes_message(folders, len(records), has_xml, has_objects)
        problems.append(Problem("error", where, message))
    return records, tuple(str(n).strip() for n in class_names), problems


class VOCFlatDetection(DetectionDataset):
    """Images and their XML files in the same folder, one folder per split (``"."``: the root).

    Typical sources: LabelImg's Pascal-VOC output, Roboflow's "Pascal VOC" export
    (``train/``, ``valid/``, ``test/``). ``holdout=("val", 0.2)`` keeps the images of a
    deterministic 20 % hold-out of ``image_sets`` (``("train", 0.2)``: the other 80 %).
    Boxes are 0-based (XML value - 1), as in :class:`VOCDetection`. The XMLs may also sit
    in a sibling folder (``images/`` + ``annotations/``, ``annots/`` or ``Annotations/``, or
    the folder ``annotations_dir`` names); ``.XML`` is read like ``.xml``.
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
        annotations_dir: Optional[Union[str, Path]] = None,
    ) -> None:
        self.root = Path(data_dir)
        self.image_set = [str(s) for s in image_sets]
        self.name = self.root.resolve().name
        records, names, problems = build_flat_xml_records(
            self.root, self.image_set, class_names, holdout, skip_unknown_classes,
            verify_image_sizes, annotations_dir,
        )  # fmt: skip
        report_problems(problems, f"VOCFlatDetection({self.root})")
        self.ids = [rec.img_id for rec in records]
        super().__init__(
            records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image,
            keep_difficult=keep_difficult,
        )  # fmt: skip
        self.class_names_source = "caller" if class_names is not None else XML_NAMES_SOURCE
        self.problems = tuple(problems)

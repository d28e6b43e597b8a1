"""Parse one PASCAL VOC annotation XML file into plain Python values (no cleaning)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple, Union

from .errors import DatasetError

__all__ = ["VocObject", "VocAnnotation", "parse_voc_xml"]


@dataclass
class VocObject:
    """One <object>: the stripped class name, the raw (1-based) corner box and its flags."""

    name: str
    box: Tuple[float, float, float, float]
    difficult: bool = False
    truncated: bool = False
    raw_name: str = ""


@dataclass
class VocAnnotation:
    """One XML file: the image name, the recorded size (0 when absent) and its objects."""

    path: Path
    filename: Optional[str]
    width: int
    height: int
    objects: List[VocObject] = field(default_factory=list)


def _text(node: Optional[ET.Element], tag: str) -> Optional[str]:
    child = node.find(tag) if node is not None else None
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _number(node: ET.Element, tag: str, path: Path, index: int) -> float:
    text = _text(node, tag)
    if text is None:
        raise DatasetError(f"{path}: object {index} has no <{tag}> in <bndbox>")
    try:
        return float(text)
    except ValueError as err:
        raise DatasetError(f"{path}: object {index} has a non-numeric <{tag}>: {text!r}") from err


def _flag(node: ET.Element, tag: str) -> bool:
    text = _text(node, tag)
    try:
        return text is not None and int(float(text)) == 1
    except ValueError:
        return False


def _size(root: ET.Element, tag: str) -> int:
    text = _text(root.find("size"), tag)
    try:
        return max(int(float(text)), 0) if text else 0
    except ValueError:
        return 0


def parse_voc_xml(path: Union[str, Path]) -> VocAnnotation:
    """Read an annotation file; raise DatasetError naming it when it is missing or malformed.

    A missing or unparsable <size> is reported as 0 so that the caller takes the size from the
    image itself; class names are stripped of stray whitespace.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"annotation file not found: {path}")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise DatasetError(f"malformed XML in {path}: {err}") from err
    except OSError as err:
        raise DatasetError(f"cannot read annotation file {path}: {err}") from err
    if root.tag != "annotation":
        raise DatasetError(f"{path}: root element is <{root.tag}>, expected <annotation>")
    objects = []
    for index, obj in enumerate(root.iter("object")):
        name_node = obj.find("name")
        raw_name = name_node.text if name_node is not None and name_node.text else ""
        name = raw_name.strip()
        if not name:
            raise DatasetError(f"{path}: object {index} has no <name>")
        bndbox = obj.find("bndbox")
        if bndbox is None:
            raise DatasetError(f"{path}: object {index} ({name}) has no <bndbox>")
        box = tuple(_number(bndbox, tag, path, index) for tag in ("xmin", "ymin", "xmax", "ymax"))
        objects.append(
            VocObject(name, box, _flag(obj, "difficult"), _flag(obj, "truncated"), raw_name)
        )
    return VocAnnotation(
        path, _text(root, "filename"), _size(root, "width"), _size(root, "height"), objects
    )

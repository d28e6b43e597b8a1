"""COCO-format detection dataset (any json; categories mapped to contiguous class indices)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from pycocotools.coco import COCO

from .detection_base import DetectionDataset, ImageRecord, clean_boxes
from .errors import DatasetError, Problem, report_problems
from .image_io import image_size_from_header

__all__ = ["COCODataset", "load_coco_json", "build_coco_records", "remove_useless_info"]


def remove_useless_info(coco: COCO) -> None:
    """Drop what training never reads (licences, URLs, dates, segmentations) to save memory."""
    dataset = coco.dataset
    dataset.pop("info", None)
    dataset.pop("licenses", None)
    for img in dataset.get("images", []):
        for key in ("license", "coco_url", "date_captured", "flickr_url"):
            img.pop(key, None)
    for ann in dataset.get("annotations", []):
        ann.pop("segmentation", None)


def load_coco_json(json_path: Union[str, Path]) -> Dict[str, Any]:
    """Read and sanity-check a COCO annotation file; DatasetError naming it when malformed."""
    json_path = Path(json_path)
    if not json_path.is_file():
        raise DatasetError(f"annotation file not found: {json_path}")
    try:
        with open(json_path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"malformed JSON in {json_path}: {err}") from err
    except OSError as err:
        raise DatasetError(f"cannot read annotation file {json_path}: {err}") from err
    if not isinstance(data, dict):
        raise DatasetError(
            f"{json_path}: top level must be an object with 'images' and 'categories'"
        )
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise DatasetError(f"{json_path}: missing or non-list '{key}'")
    if not isinstance(data.setdefault("annotations", []), list):
        raise DatasetError(f"{json_path}: 'annotations' must be a list")
    for i, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img or "file_name" not in img:
            raise DatasetError(f"{json_path}: images[{i}] lacks 'id' or 'file_name'")
    ids = [c.get("id") if isinstance(c, dict) else None for c in data["categories"]]
    if None in ids or len(set(ids)) != len(ids):
        raise DatasetError(f"{json_path}: categories need unique 'id' fields, got {ids}")
    return data


def _sanitize_annotations(data: Dict[str, Any], source: str, problems: List[Problem]) -> None:
    """Drop annotations pycocotools cannot index and give missing ids; strip segmentations."""
    image_ids = {img["id"] for img in data["images"]}
    kept, next_id = (
        [],
        1
        + max(
            (
                a.get("id", 0)
                for a in data["annotations"]
                if isinstance(a, dict) and isinstance(a.get("id"), int)
            ),
            default=0,
        ),
    )
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or not {"image_id", "bbox", "category_id"} <= ann.keys():
            problems.append(
                Problem(
                    "warning", source, f"annotations[{i}] lacks image_id/bbox/category_id; skipped"
                )
            )
            continue
        if ann["image_id"] not in image_ids:
            problems.append(
                Problem(
                    "warning",
                    source,
                    f"annotations[{i}] refers to unknown image id {ann['image_id']}; skipped",
                )
            )
            continue
        bbox = ann["bbox"]
        if not (
            isinstance(bbox, (list, tuple))
            and len(bbox) == 4
            and all(isinstance(v, (int, float)) for v in bbox)
        ):
            problems.append(
                Problem(
                    "warning", source, f"annotations[{i}] has a malformed bbox {bbox!r}; skipped"
                )
            )
            continue
        if "id" not in ann:
            ann["id"], next_id = next_id, next_id + 1
        ann.pop("segmentation", None)
        ann.setdefault("iscrowd", 0)
        ann.setdefault("area", float(bbox[2]) * float(bbox[3]))
        kept.append(ann)
    data["annotations"] = kept
    data.pop("licenses", None)


def build_coco_records(
    json_path: Union[str, Path],
    image_dir: Union[str, Path],
    skip_unknown_classes: bool = False,
    verify_image_sizes: bool = False,
) -> Tuple[COCO, List[int], List[ImageRecord], List[str], List[Problem], List[Any]]:
    """Parse a COCO json into (COCO api, class_ids, records, class_names, problems, dropped).

    Crowd boxes are not targets; boxes are clipped to the image and empty ones dropped (their
    annotation ids are ``dropped``, so scoring can leave them out too); annotations with
    unknown category ids are errors unless ``skip_unknown_classes``.
    """
    json_path, image_dir = Path(json_path), Path(image_dir)
    data = load_coco_json(json_path)
    problems: List[Problem] = []
    _sanitize_annotations(data, str(json_path), problems)
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    cats = {c["id"]: c for c in data["categories"]}
    class_ids = sorted(cats)
    class_names = [str(cats[cid].get("name", cid)).strip() for cid in class_ids]
    label_of = {cid: i for i, cid in enumerate(class_ids)}
    unknown: Dict[Any, int] = {}
    crowd = 0  # iscrowd=1 regions: not objects to detect (as in official YOLOX), but counted
    records = []
    dropped: List[Any] = []
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        file = image_dir / str(info["file_name"])
        if not file.is_file():
            problems.append(
                Problem("warning", str(file), "image file not found; image skipped", True)
            )
            continue
        height, width = int(info.get("height") or 0), int(info.get("width") or 0)
        if verify_image_sizes or height <= 0 or width <= 0:
            header = image_size_from_header(file)
            if header is not None and header != (height, width):
                if height > 0 and width > 0:
                    problems.append(
                        Problem(
                            "warning",
                            str(file),
                            f"json size {width}x{height} differs from the image {header[1]}x{header[0]}; using the image size",
                        )
                    )
                height, width = header
        if height <= 0 or width <= 0:
            problems.append(
                Problem(
                    "warning",
                    str(file),
                    "unknown image size and unreadable header; image skipped",
                    True,
                )
            )
            continue
        boxes, labels, ann_ids = [], [], []
        for ann in coco.imgToAnns.get(img_id, []):
            if ann.get("iscrowd", 0):
                crowd += 1
                continue
            cid = ann["category_id"]
            if cid not in label_of:
                unknown[cid] = unknown.get(cid, 0) + 1
                continue
            x, y, w, h = (float(v) for v in ann["bbox"])
            boxes.append((x, y, x + w, y + h))
            labels.append(label_of[cid])
            ann_ids.append(ann["id"])
        boxes_np, keep = clean_boxes(
            np.array(boxes, dtype=np.float32), width, height, str(file), problems
        )
        dropped.extend(a for a, k in zip(ann_ids, keep) if not k)
        labels_np = np.array(labels, dtype=np.int64)[keep]
        records.append(
            ImageRecord(
                file,
                height,
                width,
                boxes_np[keep],
                labels_np,
                np.zeros(len(labels_np), bool),
                img_id,
            )
        )
    if unknown:
        severity = "warning" if skip_unknown_classes else "error"
        action = (
            "skipped"
            if skip_unknown_classes
            else "add them to 'categories', or skip them (exp field skip_unknown_classes=True, "
            "checker flag --skip-unknown-classes)"
        )
        problems.append(
            Problem(
                severity,
                str(json_path),
                f"annotations use category ids not in 'categories': {unknown} (id: count); {action}",
            )
        )
    if crowd:
        problems.append(
            Problem(
                "warning",
                str(json_path),
                f"{crowd} crowd boxes (iscrowd=1) left out of the training targets",
            )
        )
    return coco, class_ids, records, class_names, problems, dropped


class COCODataset(DetectionDataset):
    """COCO json dataset with the official YOLOX item protocol.

    ``json_file`` is looked up in ``data_dir/annotations`` unless it is an existing path;
    images are read from ``data_dir/name``. ``class_ids[k]`` is the json category id of
    contiguous class ``k`` (sorted ids), so predictions map back for COCO evaluation.
    """

    def __init__(
        self,
        data_dir: Optional[Union[str, Path]] = None,
        json_file: str = "instances_train2017.json",
        name: str = "train2017",
        img_size: Sequence[int] = (416, 416),
        preproc: Optional[Callable] = None,
        cache: bool = False,
        cache_type: str = "ram",
        skip_unknown_classes: bool = False,
        verify_image_sizes: bool = False,
        bad_image: str = "auto",
        cache_dir: Optional[Union[str, Path]] = None,
    ) -> None:
        if data_dir is None:
            from ..dataloading import get_yolox_datadir

            data_dir = os.path.join(get_yolox_datadir(), "COCO")
        self.data_dir = Path(data_dir)
        self.json_file = json_file
        self.name = name
        json_path = self.data_dir / "annotations" / json_file
        if not json_path.is_file() and Path(json_file).is_file():
            json_path = Path(json_file)
        self.json_path = json_path
        self.coco, self.class_ids, records, names, problems, dropped = build_coco_records(
            json_path, self.data_dir / name, skip_unknown_classes, verify_image_sizes
        )
        report_problems(problems, f"COCODataset({json_path})")
        self._classes = tuple(names)
        self.ids = [rec.img_id for rec in records]
        self._index_of_id = {img_id: i for i, img_id in enumerate(self.ids)}
        super().__init__(records, names, img_size, preproc, cache, cache_type, cache_dir, bad_image)
        self.class_names_source = f"the categories of {json_path.name}"
        self.problems = tuple(problems)
        #: annotation ids of boxes dropped as degenerate (not trained on, not scored)
        self.dropped_annotation_ids = frozenset(dropped)

    def default_cache_dir(self) -> Path:
        return (
            self.data_dir / f"img_resized_cache_{self.name}_{self.img_size[0]}x{self.img_size[1]}"
        )

    def _item_id(self, index: int) -> np.ndarray:
        return np.array([self.records[index].img_id])

    # -------------------------------------------------------------- official subclass hooks
    def _annotation(self, index: int) -> Tuple[np.ndarray, Tuple[int, int], Tuple[int, int], str]:
        """Every annotation tuple comes from :meth:`load_anno_from_ids`, so overrides take effect."""
        return self.load_anno_from_ids(self.ids[index])

    def load_anno_from_ids(
        self, id_: Any
    ) -> Tuple[np.ndarray, Tuple[int, int], Tuple[int, int], str]:
        """``(target [n, 5] at img_size, (h, w), (resized h, w), file name)`` of COCO image ``id_``.

        Official's hook: a subclass may override it (e.g. to clean boxes its own way) and reach
        the raw annotations through ``self.coco``. The default is the cleaned annotation
        (crowd boxes out, boxes clipped to the image, empty ones dropped).
        """
        return super()._annotation(self._index_of_id[id_])

"""Dataset formats: ``dataset_format`` name -> how to build its train and eval dataset.

The exp names a format and declares the fields; each format here says which of those fields it
reads and how it turns them into a dataset, so the exp asks this registry instead of branching
on the name, and a new layout is one ``register_format`` call rather than an edit of the exp.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Optional, Protocol, Sequence, Tuple

from yolox.utils.errors import UserError

from .dataloading import get_yolox_datadir
from .datasets.coco import COCODataset
from .datasets.errors import DatasetError
from .datasets.folder_layout import default_folder_sets
from .datasets.voc import VOCDetection
from .datasets.xml_folder import VOCFlatDetection
from .datasets.yolo_txt import YOLODetection

__all__ = [
    "DatasetFields",
    "DatasetFormat",
    "DatasetRequest",
    "build_dataset",
    "dataset_format",
    "dataset_formats",
    "readers_of",
    "register_format",
    "resolve_data_dir",
]


class DatasetFields(Protocol):
    """The exp's declared data fields a format may read (``yolox.exp.Exp`` has them all)."""

    dataset_format: str
    data_dir: Optional[str]
    class_names: Optional[Tuple[str, ...]]
    skip_unknown_classes: bool
    train_ann: str
    val_ann: str
    test_ann: str
    train_name: str
    val_name: str
    test_name: str
    train_sets: Sequence[Any]
    val_sets: Sequence[Any]
    val_fraction: float
    data_yaml: Optional[str]
    annotations_dir: Optional[str]


@dataclass(frozen=True)
class DatasetRequest:
    """Which split to build and how its images are prepared."""

    train: bool
    img_size: Tuple[int, int]
    preproc: Any
    cache: bool = False
    cache_type: str = "ram"
    testdev: bool = False


Builder = Callable[[DatasetFields, DatasetRequest], Any]


@dataclass(frozen=True)
class DatasetFormat:
    """One dataset layout: its builder and what it needs from the exp.

    ``default_dir``: folder under the data root (``$YOLOX_DATADIR`` or ./datasets) used when
    ``data_dir`` is unset; ``evaluator``: "coco" (COCO AP) or "voc" (VOC AP, ``voc_metric``);
    ``reads``: the optional fields only some formats read (``data_yaml``, ``annotations_dir``,
    ``val_fraction``), so that setting one a format ignores is refused instead of doing nothing.
    """

    name: str
    build: Builder
    default_dir: str
    evaluator: str
    reads: FrozenSet[str] = frozenset()


_FORMATS: Dict[str, DatasetFormat] = {}


def register_format(fmt: DatasetFormat) -> DatasetFormat:
    """Add ``fmt`` under its name (a second format of the same name is a programming error)."""
    if fmt.name in _FORMATS:
        raise ValueError(f"dataset format {fmt.name!r} is registered twice")
    if fmt.evaluator not in ("coco", "voc"):
        raise ValueError(f"dataset format {fmt.name!r}: evaluator must be 'coco' or 'voc'")
    _FORMATS[fmt.name] = fmt
    return fmt


def dataset_formats() -> Tuple[str, ...]:
    """Names of the registered formats, in registration order."""
    return tuple(_FORMATS)


def dataset_format(name: str) -> DatasetFormat:
    """The format called ``name``; a UserError listing the valid names otherwise."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise UserError(
            f"dataset_format must be one of {dataset_formats()}, got {name!r}"
        ) from None


def readers_of(field: str) -> Tuple[str, ...]:
    """The formats that read the optional exp field ``field``."""
    return tuple(name for name, fmt in _FORMATS.items() if field in fmt.reads)


def resolve_data_dir(fields: DatasetFields, default_child: Optional[str] = None) -> str:
    """``data_dir``; else the folder of a data.yaml the format reads; else ``default_child``
    (default: the format's ``default_dir``) under the data root."""
    if fields.data_dir is not None:
        return fields.data_dir
    if fields.data_yaml is not None and fields.dataset_format in readers_of("data_yaml"):
        given = Path(fields.data_yaml)
        return str(given if given.is_dir() else given.parent)
    if default_child is None:
        default_child = dataset_format(fields.dataset_format).default_dir
    return os.path.join(get_yolox_datadir(), default_child)


def build_dataset(fields: DatasetFields, request: DatasetRequest) -> Any:
    """The dataset of ``fields.dataset_format`` for ``request``."""
    return dataset_format(fields.dataset_format).build(fields, request)


# ---------------------------------------------------------------- the built-in formats
def _build_coco(fields: DatasetFields, request: DatasetRequest) -> COCODataset:
    if request.train:
        ann, name = fields.train_ann, fields.train_name
    elif request.testdev:
        ann, name = fields.test_ann, fields.test_name
    else:
        ann, name = fields.val_ann, fields.val_name
    return COCODataset(
        data_dir=resolve_data_dir(fields),
        json_file=ann,
        name=name,
        img_size=request.img_size,
        preproc=request.preproc,
        cache=request.cache,
        cache_type=request.cache_type,
        skip_unknown_classes=fields.skip_unknown_classes,
    )


def _build_voc(fields: DatasetFields, request: DatasetRequest) -> VOCDetection:
    return VOCDetection(
        data_dir=resolve_data_dir(fields),
        image_sets=fields.train_sets if request.train else fields.val_sets,
        img_size=request.img_size,
        preproc=request.preproc,
        class_names=fields.class_names,
        cache=request.cache,
        cache_type=request.cache_type,
        skip_unknown_classes=fields.skip_unknown_classes,
    )


def _folder_sets(fields: DatasetFields, train: bool) -> Tuple[Any, ...]:
    """Split folders of a voc_flat/yolo dataset: the exp's, or those the data publish."""
    sets = fields.train_sets if train or fields.val_fraction > 0 else fields.val_sets
    if all(isinstance(s, str) for s in sets):
        return tuple(sets)
    root = Path(resolve_data_dir(fields))
    if "data_yaml" in dataset_format(fields.dataset_format).reads:
        from .datasets.data_yaml import find_data_yaml, read_data_yaml

        yaml_file = find_data_yaml(root, fields.data_yaml)
        key = "train" if train or fields.val_fraction > 0 else "val"
        if yaml_file is not None and read_data_yaml(yaml_file).split_key(key):
            return (key,)
    found = default_folder_sets(root, fields.dataset_format, train or fields.val_fraction > 0)
    if found is None:
        raise DatasetError(
            f"{root} has no val/valid split folder: set val_sets to the folder to evaluate "
            "on, or val_fraction (e.g. 0.2) to hold out part of the train images"
        )
    return tuple(found)


def _folder_common(fields: DatasetFields, request: DatasetRequest) -> Dict[str, Any]:
    """Arguments both folder layouts take: root, split folders, hold-out side and caching."""
    holdout = None
    if fields.val_fraction > 0:
        holdout = ("train" if request.train else "val", float(fields.val_fraction))
    return dict(
        data_dir=resolve_data_dir(fields),
        image_sets=_folder_sets(fields, request.train),
        img_size=request.img_size,
        preproc=request.preproc,
        class_names=fields.class_names,
        cache=request.cache,
        cache_type=request.cache_type,
        holdout=holdout,
    )


def _build_voc_flat(fields: DatasetFields, request: DatasetRequest) -> VOCFlatDetection:
    return VOCFlatDetection(
        **_folder_common(fields, request),
        skip_unknown_classes=fields.skip_unknown_classes,
        annotations_dir=fields.annotations_dir,
    )


def _build_yolo(fields: DatasetFields, request: DatasetRequest) -> YOLODetection:
    return YOLODetection(**_folder_common(fields, request), data_yaml=fields.data_yaml)


register_format(DatasetFormat("coco", _build_coco, default_dir="COCO", evaluator="coco"))
register_format(DatasetFormat("voc", _build_voc, default_dir="VOCdevkit", evaluator="voc"))
register_format(
    DatasetFormat(
        "voc_flat",
        _build_voc_flat,
        default_dir="",
        evaluator="voc",
        reads=frozenset({"val_fraction", "annotations_dir"}),
    )
)
register_format(
    DatasetFormat(
        "yolo",
        _build_yolo,
        default_dir="",
        evaluator="voc",
        reads=frozenset({"val_fraction", "data_yaml"}),
    )
)

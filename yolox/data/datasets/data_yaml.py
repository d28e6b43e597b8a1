"""The ``data.yaml`` of YOLOv5/v8 and Roboflow exports: class names and split image folders.

Exports are published with paths written on the exporter's machine: relative to the yaml
(``../train/images``), relative to its ``path:`` key, or absolute on another computer
(``C:\\Users\\me\\Battery\\data\\train\\images``). All three are resolved against the folder
that holds the yaml, the last by the longest tail of the path that exists there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from loguru import logger

from .errors import DatasetError

__all__ = [
    "DATA_YAML_NAMES",
    "DataYaml",
    "check_class_names",
    "find_data_yaml",
    "read_data_yaml",
    "read_text_no_bom",
]

DATA_YAML_NAMES = ("data.yaml", "dataset.yaml", "data.yml")
#: split keys of a data.yaml, and the folder names users give the same split
_MAPPED: set = set()  # (yaml, foreign path) pairs already logged
SPLIT_KEYS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}


def read_text_no_bom(path: Path) -> str:
    """The text of ``path`` without a UTF-8 byte-order mark (Windows editors write one)."""
    return path.read_text(encoding="utf-8-sig", errors="replace")


def check_class_names(names: Sequence[Any], source: Union[str, Path]) -> Tuple[str, ...]:
    """Stripped names; DatasetError naming the file for empty or duplicate names."""
    clean = tuple(str(n).strip().lstrip("\ufeff") for n in names)
    dupes = sorted({n for n in clean if clean.count(n) > 1})
    if dupes:
        raise DatasetError(
            f"{source}: duplicate class names {dupes}; each class needs its own name"
        )
    if "" in clean:
        raise DatasetError(f"{source}: class {clean.index('')} has an empty name")
    return clean


def _names(value: Any, path: Path) -> Optional[Tuple[str, ...]]:
    if value is None:
        return None
    if isinstance(value, dict):  # {0: a, 1: b}
        try:
            keys = sorted(int(k) for k in value)
        except (TypeError, ValueError) as err:
            raise DatasetError(
                f"{path}: names keys must be class indices, got {list(value)}"
            ) from err
        if keys != list(range(len(keys))):
            raise DatasetError(f"{path}: names indices must be 0..{len(keys) - 1}, got {keys}")
        by_index = {int(k): v for k, v in value.items()}
        return check_class_names([by_index[k] for k in keys], path)
    if isinstance(value, (list, tuple)):
        return check_class_names(value, path)
    raise DatasetError(f"{path}: names must be a list or an index mapping, got {value!r}")


@dataclass
class DataYaml:
    """One data.yaml: its file, class names (None when absent) and raw split entries."""

    path: Path
    names: Optional[Tuple[str, ...]]
    splits: Dict[str, List[str]] = field(default_factory=dict)
    base: Optional[str] = None  # the ``path:`` key

    @property
    def folder(self) -> Path:
        return self.path.parent

    def split_key(self, split: str) -> Optional[str]:
        """The key of this yaml that names ``split`` ("valid" finds ``val:``), or None."""
        if split in self.splits:
            return split
        for key, aliases in SPLIT_KEYS.items():
            if split in aliases and key in self.splits:
                return key
        return None

    def _bases(self) -> List[Path]:
        bases = []
        if self.base:
            base = Path(self.base)
            bases.append(base if base.is_absolute() else self.folder / base)
        return bases + [self.folder]

    def resolve(self, entry: str) -> Optional[Path]:
        """The existing folder an entry names, or None; a foreign path logs how it was mapped."""
        for base in self._bases():
            candidate = base / entry
            if candidate.is_dir():
                return candidate
            if entry.startswith("../") and (base / entry[3:]).is_dir():
                return base / entry[3:]  # Roboflow's "../train/images" beside the yaml
        parts = [p for p in re.split(r"[\\/]+", entry) if p not in ("", ".", "..")]
        for start in range(1, len(parts)):  # longest tail first
            candidate = self.folder.joinpath(*parts[start:])
            if candidate.is_dir():
                if (str(self.path), entry) not in _MAPPED:  # one line per path, not per build
                    _MAPPED.add((str(self.path), entry))
                    logger.info(f"{self.path}: {entry!r} does not exist here; using {candidate}")
                return candidate
        return None

    def split_folders(self, split: str) -> Optional[List[Path]]:
        """The image folders of ``split`` when this yaml names it (DatasetError if they are missing)."""
        key = self.split_key(split)
        if key is None:
            return None
        folders = []
        for entry in self.splits[key]:
            folder = self.resolve(entry)
            if folder is None:
                raise DatasetError(
                    f"{self.path}: {key}: {entry!r} is not a folder, neither relative to the "
                    f"yaml nor by any tail of the path under {self.folder}; fix the path in the "
                    "yaml, or set train_sets/val_sets to the split folders"
                )
            folders.append(folder)
        return folders


def read_data_yaml(path: Union[str, Path]) -> DataYaml:
    """Parse a data.yaml with a YAML parser (BOM removed); DatasetError naming the file."""
    path = Path(path)
    try:
        import yaml  # PyYAML: a dependency; imported here so that other formats never need it
    except ImportError as err:  # pragma: no cover - installed with the package
        raise DatasetError(f"reading {path} needs PyYAML: pip install PyYAML") from err
    try:
        content = yaml.safe_load(read_text_no_bom(path))
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err}") from err
    except yaml.YAMLError as err:
        where = str(err).replace("\n", " ")
        raise DatasetError(f"{path} is not valid YAML: {where}") from err
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise DatasetError(f"{path}: expected keys such as names:, train:, val:; got {content!r}")
    splits = {}
    for key in SPLIT_KEYS:
        value = content.get(key)
        if value is None:
            continue
        entries = value if isinstance(value, list) else [value]
        splits[key] = [str(e) for e in entries]
    base = content.get("path")
    return DataYaml(path, _names(content.get("names"), path), splits, str(base) if base else None)


def find_data_yaml(
    root: Union[str, Path], explicit: Optional[Union[str, Path]] = None
) -> Optional[Path]:
    """The data.yaml to use: ``explicit`` (a file, or a folder holding one), else one at
    ``root`` or one level above it (exports that put the images in a sub-folder)."""
    if explicit is not None:
        explicit = Path(explicit)
        if explicit.is_file():
            return explicit
        for name in DATA_YAML_NAMES:
            if (explicit / name).is_file():
                return explicit / name
        raise DatasetError(
            f"data_yaml={str(explicit)!r}: no such file, nor a folder holding "
            f"{' or '.join(DATA_YAML_NAMES)}"
        )
    root = Path(root)
    for folder in (root, root.parent):
        for name in DATA_YAML_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None

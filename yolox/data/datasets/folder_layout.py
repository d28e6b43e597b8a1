"""Where the images of a folder-style dataset are: split folders, image listing, hold-out split.

Shared by the flat VOC-XML layout (images with LabelImg XMLs beside them) and the YOLO txt
layout (``images/`` + ``labels/``), whose splits are sub-folders rather than list files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .errors import DatasetError

__all__ = [
    "FOLDER_FORMATS",
    "IMAGE_SUFFIXES",
    "default_folder_sets",
    "in_holdout",
    "list_images",
    "resolve_split_folder",
    "select_holdout",
]

FOLDER_FORMATS = ("voc_flat", "yolo")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VAL_FOLDER_NAMES = ("val", "valid", "validation")

#: ("train" or "val", fraction): which side of a deterministic hold-out split to keep
Holdout = Tuple[str, float]


def _candidates(root: Path, split: str, fmt: str) -> List[Path]:
    whole = split in ("", ".")
    if fmt == "yolo":
        if whole:
            return [root / "images", root]
        return [root / "images" / split, root / split / "images", root / split]
    return [root] if whole else [root / split]


def resolve_split_folder(root: Path, split: str, fmt: str) -> Path:
    """The image folder of ``split`` ("." = the root itself); DatasetError listing what exists."""
    for folder in _candidates(root, split, fmt):
        if folder.is_dir():
            return folder
    existing = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    raise DatasetError(
        f"no folder for split {split!r} under {root} (looked for "
        f"{', '.join(str(c) for c in _candidates(root, split, fmt))}); "
        f"sub-folders there: {existing or 'none'}"
    )


def default_folder_sets(root: Path, fmt: str, train: bool) -> Optional[List[str]]:
    """The split folders a dataset publishes: "train" (else the root) and "val"/"valid".

    Returns None for validation when there is no such folder (the caller then needs a
    hold-out split or explicit sets).
    """
    names = ("train",) if train else VAL_FOLDER_NAMES
    for name in names:
        if any(c.is_dir() for c in _candidates(root, name, fmt)[: 2 if fmt == "yolo" else 1]):
            return [name]
    return ["."] if train else None


def list_images(folder: Path) -> List[Path]:
    """Image files directly inside ``folder`` (not below it), sorted by name."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        subs = sorted(p.name for p in folder.iterdir() if p.is_dir())
        hint = f"; it has sub-folders {subs}: name them as the split folders" if subs else ""
        raise DatasetError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}{hint}")
    return sorted(files)


def in_holdout(relative_path: str, fraction: float) -> bool:
    """Deterministic membership of the validation hold-out: a hash of the path, not its position.

    Adding or removing other images never moves an image between train and val.
    """
    digest = hashlib.sha1(relative_path.replace("\\", "/").encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 2**32 < fraction


def select_holdout(files: Sequence[Path], root: Path, holdout: Optional[Holdout]) -> List[Path]:
    """``files`` restricted to one side of the hold-out split (all of them without one)."""
    if holdout is None:
        return list(files)
    side, fraction = holdout
    if side not in ("train", "val") or not 0.0 < fraction < 1.0:
        raise DatasetError(f"holdout must be ('train'|'val', 0 < fraction < 1), got {holdout!r}")
    want_val = side == "val"
    return [f for f in files if in_holdout(str(f.relative_to(root)), fraction) == want_val]

"""Where the images of a folder-style dataset are: split folders, image listing, hold-out split.

Shared by the flat VOC-XML layout (images with LabelImg XMLs beside them) and the YOLO txt
layout (``images/`` + ``labels/``), whose splits are sub-folders rather than list files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .errors import DatasetError

__all__ = [
    "FOLDER_FORMATS",
    "IMAGE_SUFFIXES",
    "default_folder_sets",
    "find_split_folders",
    "in_holdout",
    "list_images",
    "refuse_same_stems",
    "relative_id",
    "resolve_split_folder",
    "select_holdout",
    "subfolder_images",
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
    if fmt == "voc_flat" and split in ("", ".") and root.is_dir() and not _has_images(root):
        if (root / "images").is_dir():
            return root / "images"  # images/ + annotations/ without split folders
    for folder in _candidates(root, split, fmt):
        if folder.is_dir():
            return folder
    existing = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = find_split_folders(root, fmt) if root.is_dir() else []
    train_guess = next((f for f in found if "train" in f), found[0] if found else "")
    val_guess = next((f for f in found if f in VAL_FOLDER_NAMES), found[-1] if found else "")
    fix = (
        f"self.train_sets = ({train_guess!r},); self.val_sets = ({val_guess!r},)"
        if found
        else "self.data_dir = <the folder that holds the split folders>"
    )
    yaml_hint = "; or self.data_yaml = '<the export's data.yaml>'" if fmt == "yolo" else ""
    raise DatasetError(
        f"no folder for split {split!r} under {root} (looked for "
        f"{', '.join(str(c) for c in _candidates(root, split, fmt))}); "
        f"sub-folders there: {existing or 'none'}; splits found: {found or 'none'}; "
        f"in the exp: {fix}{yaml_hint}"
    )


def _has_images(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def find_split_folders(root: Path, fmt: str) -> List[str]:
    """Every split folder under ``root`` that holds images, as split names for ``fmt``.

    yolo: ``images/<split>``, ``<split>/images`` and ``images/`` itself ("."); voc_flat: every
    sub-folder with images, and the root itself (".") when it holds images. The checker uses
    this so that no published split (test/ included) is skipped without a word.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    found: List[str] = []
    subs = sorted(p for p in root.iterdir() if p.is_dir())
    if fmt == "yolo":
        images = root / "images"
        if images.is_dir():
            if _has_images(images):
                found.append(".")
            found += [p.name for p in sorted(images.iterdir()) if p.is_dir() and _has_images(p)]
        found += [p.name for p in subs if (p / "images").is_dir() and _has_images(p / "images")]
    else:
        if _has_images(root):
            found.append(".")
        found += [p.name for p in subs if _has_images(p)]
    return list(dict.fromkeys(found))


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
        hint = (
            f"; it has sub-folders {subs}: name the split folders in the exp "
            f"(self.train_sets = ({subs[0]!r},); self.val_sets = (...)), or point data_dir at "
            "the folder above images/ (layouts read: images/<split>, <split>/images, <split>, "
            "images/ + annotations/, a data.yaml's train:/val:)"
            if subs
            else ""
        )
        raise DatasetError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}{hint}")
    return sorted(files)


def subfolder_images(folder: Path) -> int:
    """Images in the sub-folders of ``folder`` (a flat layout does not read them)."""
    return sum(
        1
        for sub in folder.iterdir()
        if sub.is_dir()
        for p in sub.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def refuse_same_stems(files: Sequence[Path]) -> None:
    """DatasetError naming both files when two images of one folder share a stem.

    Both layouts pair an image with ``<stem>.txt`` / ``<stem>.xml``: ``a.jpg`` and ``a.png``
    would share one annotation file, and the second image would train on the first's boxes.
    """
    seen: dict = {}
    clashes = []
    for file in files:
        key = (file.parent, file.stem)
        if key in seen:
            clashes.append(f"{seen[key]} and {file.name}")
        else:
            seen[key] = file
    if clashes:
        listed = "; ".join(clashes[:10]) + (
            f"; ... {len(clashes) - 10} more" if len(clashes) > 10 else ""
        )
        raise DatasetError(
            f"{len(clashes)} pair(s) of images share a file stem and so one annotation file: "
            f"{listed}; rename or remove one of each pair"
        )


def relative_id(file: Path, root: Path) -> str:
    """``file`` relative to ``root`` (an image id); with ``..`` when it lies elsewhere."""
    try:
        return str(file.relative_to(root))
    except ValueError:
        return os.path.relpath(file, root)


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
    return [f for f in files if in_holdout(relative_id(f, root), fraction) == want_val]

"""Shared detection-dataset machinery: cleaned records, resizing, caching and bad-image fallback."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from loguru import logger

from yolox.utils.boxes import letterbox_ratio

from ..data_augment import ValTransform
from .datasets_wrapper import Dataset
from .errors import DatasetError, Problem
from .image_cache import ImageCache
from .image_io import read_image

__all__ = [
    "ImageRecord",
    "DetectionDataset",
    "cache_key",
    "clean_boxes",
    "unreadable_target",
    "is_unreadable_target",
]

BAD_IMAGE_POLICIES = ("auto", "substitute", "blank", "raise")


def unreadable_target() -> np.ndarray:
    """The target of an evaluation item whose image could not be decoded (a blank was used).

    Evaluation loaders do not use targets, so this row of -1 is how an evaluator (possibly in
    another process than the loader worker that met the bad file) learns not to score the image.
    """
    return np.full((1, 5), -1.0, dtype=np.float32)


def is_unreadable_target(target: Any) -> bool:
    """True for the marker of :func:`unreadable_target` (a tensor or an array)."""
    values = np.asarray(target.cpu() if hasattr(target, "cpu") else target)
    return values.shape[-2:] == (1, 5) and bool((values == -1).all())


@dataclass
class ImageRecord:
    """One image: its file, original size and cleaned boxes (x1, y1, x2, y2 in original pixels)."""

    file: Path
    height: int
    width: int
    boxes: np.ndarray
    labels: np.ndarray
    difficult: np.ndarray
    img_id: Any


def clean_boxes(
    boxes: np.ndarray,
    width: int,
    height: int,
    file: str,
    problems: List[Problem],
    display_offset: float = 0.0,
) -> Tuple[np.ndarray, np.ndarray]:
    """Clip corner boxes to the image and drop empty ones, recording a warning for each repair.

    Messages show ``boxes + display_offset`` (1 for VOC) so they quote the file's own numbers.
    Returns (clipped boxes, keep mask). A tolerance of one pixel avoids warning about the
    ubiquitous off-by-one of 1-based VOC coordinates at the right and bottom borders.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return boxes, np.zeros(0, dtype=bool)
    outside = (
        (boxes[:, 0] < -1)
        | (boxes[:, 1] < -1)
        | (boxes[:, 2] > width + 1)
        | (boxes[:, 3] > height + 1)
    )
    clipped = boxes.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    for i in np.nonzero(~keep)[0]:
        problems.append(
            Problem(
                "warning",
                file,
                f"dropped degenerate box {(boxes[i] + display_offset).tolist()} (zero or negative size after clipping to {width}x{height})",
            )
        )
    for i in np.nonzero(outside & keep)[0]:
        problems.append(
            Problem(
                "warning",
                file,
                f"box {(boxes[i] + display_offset).tolist()} lies outside the {width}x{height} image; clipped",
            )
        )
    return clipped, keep


def cache_key(file: Path) -> str:
    """``<stem>_<path hash>_<state hash>``: the disk-cache name of an image file.

    The state part hashes size and modification time, so a replaced image gets a new entry
    and :class:`ImageCache` removes the stale one (same stem and path hash) when it sees it.
    """
    path_hash = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:10]
    try:
        stat = file.stat()
        state = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        state = "missing"
    return f"{file.stem}_{path_hash}_{hashlib.sha1(state.encode()).hexdigest()[:8]}"


class DetectionDataset(Dataset):
    """Items of (resized BGR image, target [n, 5] x1y1x2y2+cls, (orig_h, orig_w), image id).

    An image that cannot be decoded at training time never kills a worker: it is logged with
    its file name and, by ``bad_image`` policy, replaced by another random image
    ("substitute": training), by a grey image without boxes ("blank": evaluation, where the
    id must be kept so no other image is scored twice, and the item's target is
    :func:`unreadable_target` so that the evaluator leaves the image out of the scores) or
    re-raised ("raise"). The default "auto" picks "blank" when ``preproc`` is a ValTransform
    and "substitute" otherwise.

    ``class_names_source`` says where the names came from: "caller" (given to the constructor),
    a description of the data ("the XML <name>s (sorted)", a json, a names file), or None when
    the data hold class indices only. ``problems`` keeps what reading the annotations found
    (``skipped_images``: the images left out, with the reason). ``keep_difficult=False``
    removes difficult objects from the training targets only (:meth:`annotation_for_eval`
    keeps them, flagged).
    """

    root: Optional[Path] = None  # the dataset folder (folder-based formats)
    name: Optional[str] = None  # names the disk cache
    class_names_source: Optional[str] = "caller"
    problems: Sequence[Problem] = ()

    @property
    def skipped_images(self) -> List[Tuple[str, str]]:
        """(file, reason) of every image left out while reading the annotations."""
        return [(p.file, p.message) for p in self.problems if p.skipped_image]

    def __init__(
        self,
        records: List[ImageRecord],
        class_names: Sequence[str],
        img_size: Sequence[int] = (416, 416),
        preproc: Optional[Callable] = None,
        cache: bool = False,
        cache_type: str = "ram",
        cache_dir: Optional[Union[str, Path]] = None,
        bad_image: str = "auto",
        max_retries: int = 10,
        keep_difficult: bool = True,
    ) -> None:
        super().__init__(img_size)
        if bad_image not in BAD_IMAGE_POLICIES:
            raise ValueError(f"bad_image must be one of {BAD_IMAGE_POLICIES}, got {bad_image!r}")
        self._eval_annotations = [
            (r.boxes.copy(), r.labels.copy(), r.difficult.copy()) for r in records
        ]
        if not keep_difficult:
            for r in records:
                easy = ~r.difficult
                r.boxes, r.labels, r.difficult = r.boxes[easy], r.labels[easy], r.difficult[easy]
        self.records = records
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.img_size = (int(img_size[0]), int(img_size[1]))
        self.preproc = preproc
        if bad_image == "auto":
            bad_image = "blank" if isinstance(preproc, ValTransform) else "substitute"
        self.bad_image = bad_image
        self.max_retries = max_retries
        self._bad_indices: set = set()
        self._warned_size: set = set()
        self.annotations = [self._annotation(i) for i in range(len(records))]
        self.cache: Optional[ImageCache] = None
        if cache:
            self.cache_images(cache_type, cache_dir)

    def __len__(self) -> int:
        return len(self.records)

    def default_cache_dir(self) -> Path:
        """Folder for the disk cache, next to the data and named after the dataset.

        Folder-based datasets set ``root`` and ``name`` (the dataset folder's name unless given).
        """
        if self.root is None or self.name is None:
            raise NotImplementedError(f"{type(self).__name__} needs a cache_dir for the disk cache")
        h, w = self.img_size
        return Path(self.root) / f"img_resized_cache_{self.name}_{h}x{w}"

    def cache_images(
        self, cache_type: str = "ram", cache_dir: Optional[Union[str, Path]] = None
    ) -> None:
        """Decode and resize every image once, into RAM or into .npy files (with a progress bar)."""
        if cache_type == "disk" and cache_dir is None:
            cache_dir = self.default_cache_dir()
        need = sum(rh * rw * 3 for _, _, (rh, rw), _ in self.annotations) / 2**30
        logger.info(
            f"caching {len(self)} images at {self.img_size} needs about {need:.2f} GiB ({cache_type})"
        )
        keys = [cache_key(rec.file) for rec in self.records]
        self.cache = ImageCache(len(self), self._decode_resized, cache_type, cache_dir, keys=keys)
        for index, size in enumerate(self.cache.sizes):
            if size is not None:
                self._update_size(index, *size)

    def _annotation(self, index: int) -> Tuple[np.ndarray, Tuple[int, int], Tuple[int, int], str]:
        """Official-style tuple: (target scaled to img_size, (h, w), (resized h, w), file name)."""
        rec = self.records[index]
        r = letterbox_ratio(self.img_size, rec.height, rec.width)
        target = np.zeros((len(rec.boxes), 5), dtype=np.float32)
        target[:, :4] = rec.boxes * r
        target[:, 4] = rec.labels
        return (
            target,
            (rec.height, rec.width),
            (int(rec.height * r), int(rec.width * r)),
            rec.file.name,
        )

    def annotation_for_eval(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes [n, 4] x1y1x2y2 in original 0-based pixels, labels [n] int, difficult [n] bool).

        Same coordinate convention as the training targets and the model's predictions, so
        compare predictions with these directly (no +1 shift).
        """
        boxes, labels, difficult = self._eval_annotations[index]
        return boxes.astype(np.float32), labels.astype(np.int64), difficult.astype(bool)

    def remap_classes(self, class_names: Sequence[str]) -> None:
        """Relabel every box to its index in ``class_names`` (a superset of this dataset's names).

        Used when the names were read from the data (e.g. the XMLs of one split) and the run's
        list, fixed by another split or by the exp, orders them differently.
        """
        names = tuple(str(n) for n in class_names)
        missing = [n for n in self.class_names if n not in names]
        if missing:
            raise DatasetError(
                f"the dataset has classes {missing} that are not in the run's class names {list(names)}"
            )
        lookup = np.array([names.index(n) for n in self.class_names] or [0], dtype=np.int64)
        for rec in self.records:
            rec.labels = lookup[rec.labels]
        self._eval_annotations = [(b, lookup[lab], d) for b, lab, d in self._eval_annotations]
        self.class_names, self.num_classes = names, len(names)
        self.annotations = [self._annotation(i) for i in range(len(self.records))]

    def _update_size(self, index: int, height: int, width: int) -> None:
        """Trust the decoded size over the annotation: re-clip the boxes when they disagree."""
        rec = self.records[index]
        if (rec.height, rec.width) == (height, width):
            return
        if index not in self._warned_size:
            self._warned_size.add(index)
            logger.warning(
                f"{rec.file}: annotation says {rec.width}x{rec.height} but the image is "
                f"{width}x{height}; using the image size"
            )
        problems: List[Problem] = []
        boxes, keep = clean_boxes(rec.boxes, width, height, str(rec.file), problems)
        rec.boxes, rec.labels, rec.difficult = boxes[keep], rec.labels[keep], rec.difficult[keep]
        rec.height, rec.width = height, width
        self.annotations[index] = self._annotation(index)

    def load_anno(self, index: int) -> np.ndarray:
        """Target [n, 5] (x1, y1, x2, y2, cls) at the resized scale, without reading the image."""
        return self.annotations[index][0]

    def image_info(self, index: int) -> Tuple[int, int]:
        """(orig_h, orig_w) of an image, as the evaluator needs to undo the resize."""
        rec = self.records[index]
        return rec.height, rec.width

    def load_image(self, index: int) -> np.ndarray:
        """The original image (BGR uint8); DatasetError if unreadable."""
        return read_image(self.records[index].file)

    def _decode_resized(self, index: int) -> Tuple[np.ndarray, int, int]:
        img = self.load_image(index)
        height, width = img.shape[:2]
        r = letterbox_ratio(self.img_size, height, width)
        size = (max(int(width * r), 1), max(int(height * r), 1))
        return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR).astype(np.uint8), height, width

    def load_resized_img(self, index: int) -> np.ndarray:
        """The image decoded (:meth:`load_image`) and resized so that it fits img_size."""
        img, height, width = self._decode_resized(index)
        self._update_size(index, height, width)
        return img

    def read_img(self, index: int, use_cache: bool = True) -> np.ndarray:
        """What :meth:`pull_item` reads: the cached image, else :meth:`load_resized_img` (official hook)."""
        if use_cache and self.cache is not None:
            return self.cache.get(index)
        return self.load_resized_img(index)

    def _pick_substitute(self) -> int:
        for _ in range(100):
            candidate = random.randrange(len(self))
            if candidate not in self._bad_indices:
                return candidate
        return random.randrange(len(self))

    def pull_item(self, index: int) -> Tuple[np.ndarray, np.ndarray, Tuple[int, int], Any]:
        """(resized image, target [n, 5], (orig_h, orig_w), image id), surviving bad images."""
        index = int(index)
        last_error: Optional[DatasetError] = None
        for _ in range(self.max_retries + 1):
            if self.bad_image == "substitute" and index in self._bad_indices:
                index = self._pick_substitute()  # known bad: reported once already
            try:
                img = self.read_img(index)
            except DatasetError as err:
                if self.bad_image == "raise":
                    raise
                last_error = err
                first_time = index not in self._bad_indices
                self._bad_indices.add(index)
                if self.bad_image == "blank":
                    if first_time:
                        logger.warning(f"{err}; using a blank image for index {index}")
                    return self._blank_item(index)
                if first_time:
                    logger.warning(f"{err}; substituting another image")
                index = self._pick_substitute()
                continue
            return img, self.load_anno(index).copy(), self.image_info(index), self._item_id(index)
        raise DatasetError(
            f"{self.max_retries + 1} images in a row could not be read; last: {last_error}"
        )

    def _blank_item(self, index: int) -> Tuple[np.ndarray, np.ndarray, Tuple[int, int], Any]:
        _, _, (rh, rw), _ = self.annotations[index]
        img = np.full((max(rh, 1), max(rw, 1), 3), 114, dtype=np.uint8)
        return img, np.zeros((0, 5), dtype=np.float32), self.image_info(index), self._item_id(index)

    def _item_id(self, index: int) -> Any:
        """The id returned with each item (subclasses follow the official formats)."""
        return index

    @Dataset.mosaic_getitem
    def __getitem__(self, index: int) -> Tuple[Any, Any, Tuple[int, int], Any]:
        img, target, img_info, img_id = self.pull_item(index)
        if self.preproc is not None:
            img, target = self.preproc(img, target, self.input_dim)
        if self.bad_image == "blank" and index in self._bad_indices:
            target = unreadable_target()
        return img, target, img_info, img_id

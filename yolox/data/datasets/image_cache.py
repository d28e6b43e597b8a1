"""Cache decoded, resized images in RAM or as .npy files so that epochs skip JPEG decoding."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from loguru import logger
from tqdm import tqdm

from .errors import DatasetError

__all__ = ["ImageCache"]

Loader = Callable[[int], Tuple[np.ndarray, int, int]]


class ImageCache:
    """Resized images for indices 0..n-1, kept in RAM (``"ram"``) or under ``cache_dir`` (``"disk"``).

    ``load(i)`` must return (resized image, original height, original width) or raise
    DatasetError; failures are remembered and re-raised on access so the dataset can substitute
    another image. Disk files are named by ``keys`` (default: the index), so a key should
    identify the image file, not its position in one particular image list; a key
    ``<name>_<state>`` also marks older entries ``<name>_<other state>`` as stale (removed and
    rebuilt). ``sizes`` holds the decoded original sizes (None where not decoded).
    """

    def __init__(
        self,
        num_images: int,
        load: Loader,
        cache_type: str = "ram",
        cache_dir: Optional[Path] = None,
        num_threads: int = 4,
        keys: Optional[Sequence[str]] = None,
    ) -> None:
        if cache_type not in ("ram", "disk"):
            raise ValueError(f"cache_type must be 'ram' or 'disk', got {cache_type!r}")
        if cache_type == "disk" and cache_dir is None:
            raise ValueError("cache_type='disk' needs a cache_dir")
        self.cache_type = cache_type
        self.keys = list(keys) if keys is not None else [f"{i:08d}" for i in range(num_images)]
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.sizes: List[Optional[Tuple[int, int]]] = [None] * num_images
        self.errors: dict = {}
        self._images: List[Optional[np.ndarray]] = [None] * num_images
        if self.cache_dir is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise DatasetError(
                    f"cannot create image cache folder {self.cache_dir}: {err}"
                ) from err
        if cache_type == "disk":
            self._remove_stale()
        self._fill(num_images, load, max(1, num_threads))

    def _remove_stale(self) -> None:
        """Delete entries of the same images made from older file contents (one log line).

        Keys of the form ``<name>_<state>`` share ``<name>`` across versions of one image file;
        an existing ``.npy`` whose name matches but whose state differs is stale.
        """
        assert self.cache_dir is not None
        wanted = set(self.keys)
        owners = {key.rsplit("_", 1)[0] for key in self.keys if "_" in key}
        stale = [
            path
            for path in self.cache_dir.glob("*.npy")
            if path.stem not in wanted
            and "_" in path.stem
            and path.stem.rsplit("_", 1)[0] in owners
        ]
        for path in stale:
            path.unlink(missing_ok=True)
        if stale:
            logger.info(
                f"image cache {self.cache_dir}: {len(stale)} images changed since they were "
                "cached (size or modification time); rebuilding their entries"
            )

    def _npy(self, index: int) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / f"{self.keys[index]}.npy"

    def _fill_one(self, index: int, load: Loader) -> int:
        if self.cache_type == "disk" and self._npy(index).is_file():
            return 0
        try:
            img, height, width = load(index)
        except DatasetError as err:
            self.errors[index] = str(err)
            return 0
        self.sizes[index] = (height, width)
        if self.cache_type == "ram":
            self._images[index] = img
        else:
            tmp = self._npy(index).with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, img)
            tmp.replace(self._npy(index))
        return img.nbytes

    def _fill(self, num_images: int, load: Loader, num_threads: int) -> None:
        where = "RAM" if self.cache_type == "ram" else str(self.cache_dir)
        logger.info(f"caching {num_images} resized images in {where}")
        total = 0
        with ThreadPoolExecutor(max_workers=num_threads) as pool:
            jobs = pool.map(lambda i: self._fill_one(i, load), range(num_images))
            bar = tqdm(jobs, total=num_images, desc=f"caching images ({self.cache_type})")
            for nbytes in bar:
                total += nbytes
                bar.set_postfix_str(f"{total / 2**30:.2f} GiB")
        if self.errors:
            logger.warning(
                f"{len(self.errors)} images could not be cached (unreadable); they will be substituted"
            )

    def get(self, index: int) -> np.ndarray:
        """The cached resized image; DatasetError if it could not be decoded when caching."""
        if index in self.errors:
            raise DatasetError(self.errors[index])
        if self.cache_type == "ram":
            img = self._images[index]
            if img is None:
                raise DatasetError(f"image {index} missing from the RAM cache")
            return img.copy()
        try:
            return np.load(self._npy(index))
        except (OSError, ValueError) as err:
            raise DatasetError(f"cannot read cached image {self._npy(index)}: {err}") from err

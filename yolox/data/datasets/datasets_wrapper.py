"""Base datasets: input size and (mosaic, index[, size]) keys, concatenation, official image cache."""

from __future__ import annotations

import bisect
import copy
import os
from abc import ABCMeta, abstractmethod
from functools import wraps
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np
from torch.utils.data import ConcatDataset as TorchConcatDataset
from torch.utils.data import Dataset as TorchDataset

__all__ = ["Dataset", "ConcatDataset", "MixConcatDataset", "CacheDataset", "cache_read_img"]


class Dataset(TorchDataset):
    """A torch Dataset with an ``input_dim`` that the batch sampler can switch per batch.

    YoloBatchSampler yields keys ``(mosaic, index)`` or ``(mosaic, index, (h, w))``; methods
    wrapped with :meth:`mosaic_getitem` unpack them so that the sampler in the main process
    controls mosaic on/off and the multi-scale input size inside every worker.
    """

    def __init__(self, input_dimension: Sequence[int], mosaic: bool = True) -> None:
        super().__init__()
        self._default_input_dim = (int(input_dimension[0]), int(input_dimension[1]))
        self.enable_mosaic = mosaic

    @property
    def input_dim(self) -> Tuple[int, int]:
        """The (height, width) the current item is produced at."""
        override = getattr(self, "_input_dim", None)
        return tuple(override) if override is not None else self._default_input_dim

    @staticmethod
    def mosaic_getitem(getitem_fn: Callable[[Any, int], Any]) -> Callable[[Any, Any], Any]:
        """Decorator: unpack a sampler key into ``enable_mosaic``, the index and the input size."""

        @wraps(getitem_fn)
        def wrapper(self: Dataset, index: Any) -> Any:
            if isinstance(index, (tuple, list)):
                self.enable_mosaic = bool(index[0])
                if len(index) > 2 and index[2] is not None:
                    self._input_dim = (int(index[2][0]), int(index[2][1]))
                index = index[1]
            return getitem_fn(self, int(index))

        return wrapper


class ConcatDataset(TorchConcatDataset):
    """Several datasets as one; ``input_dim`` and ``pull_item`` reach through (official API)."""

    def __init__(self, datasets: Sequence[TorchDataset]) -> None:
        super().__init__(datasets)
        if hasattr(self.datasets[0], "input_dim"):
            self._input_dim = self.datasets[0].input_dim
            self.input_dim = self.datasets[0].input_dim

    def _locate(self, idx: int) -> Tuple[int, int]:
        """(dataset number, index inside it) of global index ``idx`` (negative counts from the end)."""
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        return which, idx - (self.cumulative_sizes[which - 1] if which else 0)

    def pull_item(self, idx: int) -> Any:
        which, inner = self._locate(idx)
        return self.datasets[which].pull_item(inner)


class MixConcatDataset(ConcatDataset):
    """Like ConcatDataset, for sampler keys ``(mosaic, index, size)`` as well as plain indices."""

    def __getitem__(self, index: Any) -> Any:
        idx = index if isinstance(index, int) else index[1]
        which, inner = self._locate(int(idx))
        if not isinstance(index, int):
            index = (index[0], inner, *tuple(index[2:]))
        else:
            index = inner
        return self.datasets[which][index]


def cache_read_img(use_cache: bool = True) -> Callable[[Callable], Callable]:
    """Decorator for ``read_img(self, index)``: serve from the RAM/disk cache when it is on.

    The wrapped method takes ``use_cache`` (default: this decorator's) so that filling the
    cache can read the real image.
    """

    def decorator(read_img_fn: Callable[[Any, int], np.ndarray]) -> Callable[..., np.ndarray]:
        @wraps(read_img_fn)
        def wrapper(self: Any, index: int, use_cache: bool = use_cache) -> np.ndarray:
            if not (self.cache and use_cache):
                return read_img_fn(self, index)
            if self.cache_type == "ram":
                return copy.deepcopy(self.imgs[index])
            if self.cache_type == "disk":
                return np.load(self._disk_cache_file(index))
            raise ValueError(f"unknown cache_type {self.cache_type!r}: 'ram' or 'disk'")

        return wrapper

    return decorator


class CacheDataset(Dataset, metaclass=ABCMeta):
    """Official's base for datasets that cache resized images in RAM or as .npy files on disk.

    Subclasses implement :meth:`read_img` (decorated with :func:`cache_read_img`); with
    ``cache=True`` every image is read once at construction. This project's own datasets cache
    through yolox.data.datasets.image_cache instead; this class serves user subclasses.
    """

    def __init__(
        self,
        input_dimension: Sequence[int],
        num_imgs: Optional[int] = None,
        data_dir: Optional[str] = None,
        cache_dir_name: Optional[str] = None,
        path_filename: Optional[Sequence[str]] = None,
        cache: bool = False,
        cache_type: str = "ram",
    ) -> None:
        super().__init__(input_dimension)
        self.cache = cache
        self.cache_type = cache_type
        self.num_imgs = num_imgs
        self.data_dir = data_dir
        self.cache_dir_name = cache_dir_name
        self.path_filename = path_filename
        self.imgs: Optional[List[np.ndarray]] = None
        if cache_type == "disk":
            if data_dir is None or cache_dir_name is None or path_filename is None:
                raise ValueError("the disk cache needs data_dir, cache_dir_name and path_filename")
            self.cache_dir = os.path.join(data_dir, cache_dir_name)
        if cache:
            self.cache_images()

    def _disk_cache_file(self, index: int) -> str:
        assert self.path_filename is not None
        return os.path.join(self.cache_dir, f"{os.path.splitext(self.path_filename[index])[0]}.npy")

    def cache_images(self) -> None:
        """Read every image once (``read_img(i, use_cache=False)``) into RAM or .npy files."""
        if self.num_imgs is None:
            raise ValueError("caching needs num_imgs")
        if self.cache_type == "ram":
            self.imgs = [self.read_img(i, use_cache=False) for i in range(self.num_imgs)]
            return
        if self.cache_type != "disk":
            raise ValueError(f"unknown cache_type {self.cache_type!r}: 'ram' or 'disk'")
        for i in range(self.num_imgs):
            target = self._disk_cache_file(i)
            if not os.path.isfile(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                np.save(target, self.read_img(i, use_cache=False))

    @abstractmethod
    def read_img(self, index: int, use_cache: bool = True) -> np.ndarray:
        """The resized image ``index`` (decorate with ``@cache_read_img()``)."""

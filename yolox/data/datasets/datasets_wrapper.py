"""Base dataset that knows its network input size and accepts (mosaic, index[, size]) keys."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Sequence, Tuple

from torch.utils.data import Dataset as TorchDataset

__all__ = ["Dataset"]


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

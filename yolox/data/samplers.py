"""Samplers: an endless, rank-sharded index stream and the batch sampler carrying mosaic/size."""

from __future__ import annotations

import itertools
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
from torch.utils.data.sampler import BatchSampler, Sampler

from yolox.utils.errors import UserError

__all__ = ["InfiniteSampler", "YoloBatchSampler"]


class YoloBatchSampler(BatchSampler):
    """BatchSampler whose keys are ``(mosaic, index)`` or ``(mosaic, index, input_dim)``.

    The flag and the optional multi-scale size travel with every index, so changing them on
    the sampler (main process) reaches the dataset copies inside the workers.
    """

    def __init__(
        self,
        sampler: Sampler,
        batch_size: int,
        drop_last: bool,
        mosaic: bool = True,
        input_dim: Optional[Sequence[int]] = None,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.mosaic = mosaic
        self.input_dim = tuple(input_dim) if input_dim is not None else None

    def __iter__(self) -> Iterator[List[Tuple]]:
        for batch in super().__iter__():
            size = self.input_dim
            if size is None:
                yield [(self.mosaic, index) for index in batch]
            else:
                yield [(self.mosaic, index, size) for index in batch]


class InfiniteSampler(Sampler):
    """Endless shuffled (or ordered) indices; each rank takes every world_size-th one.

    Training loops count iterations, not epochs, so an endless stream avoids re-creating
    worker processes at every epoch boundary.
    """

    def __init__(
        self,
        size: int,
        shuffle: bool = True,
        seed: Optional[int] = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if size <= 0:
            raise UserError(
                f"InfiniteSampler needs a non-empty dataset, got size={size}: no usable "
                "training image (all unreadable or skipped? see the warnings above)"
            )
        self._size = size
        self._shuffle = shuffle
        self._seed = int(seed) if seed is not None else 0
        self._rank = rank
        self._world_size = world_size

    def _infinite_indices(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self._seed)
        while True:
            if self._shuffle:
                yield from torch.randperm(self._size, generator=generator).tolist()
            else:
                yield from range(self._size)

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(self._infinite_indices(), self._rank, None, self._world_size)

    def __len__(self) -> int:
        return self._size // self._world_size

"""Endless batch stream over the training loader that can resume at any consumed position.

The official loader samples from an endless, seeded index stream. To resume exactly, the
indices already consumed (``position`` batches) are skipped inside the sampler, which is cheap
(no image is decoded), before the loader's iterator is created.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import torch
from loguru import logger
from torch.utils.data import Sampler

__all__ = ["BatchStream", "SkipSampler"]


class SkipSampler(Sampler):
    """Yields ``inner``'s indices, dropping the first ``skip`` of them on the first pass only.

    For a finite sampler the skip is taken modulo its length (one pass = one epoch).
    """

    def __init__(self, inner: Sampler, skip: int):
        self.inner = inner
        self.pending = skip

    def __iter__(self) -> Iterator[Any]:
        skip, self.pending = self.pending, 0
        try:
            size = len(self.inner)  # type: ignore[arg-type]
        except TypeError:
            size = 0
        if size and not _is_endless(self.inner):
            skip %= size
        return itertools.islice(iter(self.inner), skip, None)

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:  # keep set_epoch, _seed... of the wrapped sampler
        return getattr(self.__dict__["inner"], name)


def _is_endless(sampler: Any) -> bool:
    """Endless samplers (YOLOX InfiniteSampler) report a nominal length but never stop."""
    return type(sampler).__name__ == "InfiniteSampler" or getattr(sampler, "endless", False)


class BatchStream:
    """``next()`` returns ``(images, targets)`` on ``device``; survives finite loaders too."""

    def __init__(self, loader: Any, device: torch.device):
        self.loader = loader
        self.device = device
        self._iter: Iterator | None = None
        self.position = 0  # batches consumed since the start of the run (resume position)

    def _batch_size(self) -> int:
        batch_sampler = getattr(self.loader, "batch_sampler", None)
        return int(getattr(batch_sampler, "batch_size", None) or self.loader.batch_size or 1)

    def open(self, position: int = 0) -> None:
        """(Re)create the iterator so that the next batch is the ``position``-th of the run."""
        batch_sampler = getattr(self.loader, "batch_sampler", None)
        inner = getattr(batch_sampler, "sampler", None)
        if inner is None:
            if position:
                logger.warning("training loader has no batch_sampler.sampler: data order restarts")
        else:
            if isinstance(inner, SkipSampler):
                inner = inner.inner
            batch_sampler.sampler = (
                SkipSampler(inner, position * self._batch_size()) if position else inner
            )
        self.position = position
        self._iter = self._new_iter()

    def _new_iter(self) -> Iterator:
        # Creating a loader iterator draws a worker seed from torch's global RNG; keep the
        # global stream untouched so resumed and uninterrupted runs draw the same numbers.
        with torch.random.fork_rng(devices=[]):
            return iter(self.loader)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._iter is None:
            self.open(0)
        try:
            batch = next(self._iter)
        except StopIteration:  # finite loader: start the next pass
            self._iter = self._new_iter()
            batch = next(self._iter)
        self.position += 1
        images, targets = batch[0], batch[1]
        non_blocking = self.device.type == "cuda"
        return (
            images.to(self.device, non_blocking=non_blocking),
            targets.to(self.device, non_blocking=non_blocking),
        )

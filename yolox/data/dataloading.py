"""DataLoader that owns the YOLOX batch sampler (so mosaic can be switched off), and helpers."""

from __future__ import annotations

import os
import random
import uuid
from typing import Any, List, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data.dataloader import default_collate

from .samplers import YoloBatchSampler

__all__ = ["get_yolox_datadir", "DataLoader", "list_collate", "worker_init_reset_seed"]


def get_yolox_datadir() -> str:
    """Root folder of the datasets: $YOLOX_DATADIR, else ./datasets (relative to the cwd)."""
    return os.environ.get("YOLOX_DATADIR") or os.path.join(os.getcwd(), "datasets")


class DataLoader(TorchDataLoader):
    """torch DataLoader whose batch sampler is a YoloBatchSampler unless one is given.

    Keeping the sampler in the main process means :meth:`close_mosaic` and
    :meth:`change_input_dim` take effect from the next batch even with persistent workers.
    """

    def __init__(self, dataset: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("batch_sampler") is None and not args:
            sampler = kwargs.pop("sampler", None)
            if sampler is None:
                shuffle = kwargs.pop("shuffle", False)
                sampler = (
                    torch.utils.data.RandomSampler(dataset)
                    if shuffle
                    else torch.utils.data.SequentialSampler(dataset)
                )
            kwargs["batch_sampler"] = YoloBatchSampler(
                sampler,
                kwargs.pop("batch_size", 1),
                kwargs.pop("drop_last", False),
                mosaic=getattr(dataset, "enable_mosaic", True),
            )
        super().__init__(dataset, *args, **kwargs)

    def close_mosaic(self) -> None:
        """Stop mosaic/mixup from the next batch on (the last no-aug epochs of the recipe)."""
        self.batch_sampler.mosaic = False

    def change_input_dim(self, multiple: int = 32, random_range: Sequence[int] = (10, 19)) -> tuple:
        """Pick a random multi-scale input size (multiple * k) for the following batches."""
        size = multiple * random.randint(int(random_range[0]), int(random_range[1]))
        self.batch_sampler.input_dim = (size, size)
        return self.batch_sampler.input_dim


def list_collate(batch: List[Any]) -> List[Any]:
    """Collate that stacks tensors/arrays per field but keeps list fields as lists."""
    items = list(zip(*batch))
    out = []
    for field in items:
        if isinstance(field[0], (list, tuple)):
            out.append(list(field))
        else:
            out.append(default_collate(list(field)))
    return out


def worker_init_reset_seed(worker_id: int) -> None:
    """Give each worker different numpy/random/torch seeds (forked workers share the parent's)."""
    seed = uuid.uuid4().int % 2**32
    random.seed(seed)
    torch.set_rng_state(torch.manual_seed(seed).get_state())
    np.random.seed(seed)

"""Data pipeline: datasets, augmentation, samplers and loaders of the YOLOX training recipe."""

from .data_augment import TrainTransform, ValTransform, preproc
from .data_prefetcher import DataPrefetcher
from .dataloading import DataLoader, get_yolox_datadir, list_collate, worker_init_reset_seed
from .datasets import *  # noqa: F401,F403
from .datasets import __all__ as _datasets_all
from .samplers import InfiniteSampler, YoloBatchSampler

__all__ = [
    "TrainTransform",
    "ValTransform",
    "preproc",
    "DataPrefetcher",
    "DataLoader",
    "get_yolox_datadir",
    "list_collate",
    "worker_init_reset_seed",
    "InfiniteSampler",
    "YoloBatchSampler",
    *_datasets_all,
]

"""Samplers, the YOLOX DataLoader (mosaic switch, multi-scale) and workers surviving bad images."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from yolox.data import (
    DataLoader,
    DataPrefetcher,
    InfiniteSampler,
    MosaicDetection,
    TrainTransform,
    VOCDetection,
    YoloBatchSampler,
    get_yolox_datadir,
    worker_init_reset_seed,
)
from yolox.testing.data_files import jpeg_bytes, solid_image, voc_xml


def test_infinite_sampler_is_endless_and_sharded():
    a = list(itertools.islice(iter(InfiniteSampler(5, seed=3, rank=0, world_size=2)), 10))
    b = list(itertools.islice(iter(InfiniteSampler(5, seed=3, rank=1, world_size=2)), 10))
    both = sorted(a[:2] + b[:2] + a[2:3])  # the first 5 of the merged stream are one permutation
    assert both == [0, 1, 2, 3, 4]
    assert a == list(itertools.islice(iter(InfiniteSampler(5, seed=3, rank=0, world_size=2)), 10))
    ordered = list(itertools.islice(iter(InfiniteSampler(3, shuffle=False)), 7))
    assert ordered == [0, 1, 2, 0, 1, 2, 0]


def test_yolo_batch_sampler_keys():
    sampler = YoloBatchSampler(
        torch.utils.data.SequentialSampler(range(5)), 2, drop_last=False, mosaic=True
    )
    assert list(sampler) == [[(True, 0), (True, 1)], [(True, 2), (True, 3)], [(True, 4)]]
    sampler.mosaic = False
    sampler.input_dim = (64, 96)
    assert next(iter(sampler)) == [(False, 0, (64, 96)), (False, 1, (64, 96))]


def _voc_with_one_corrupt_image(make_voc):
    entries = {}
    for i in range(4):
        boxes = [(3, 3, 20, 20)]
        entries[f"im{i}"] = (
            jpeg_bytes(solid_image(40, 48, boxes, seed=i)),
            voc_xml(f"im{i}.jpg", (48, 40), [("a", (4, 4, 21, 21))]),
        )
    return make_voc(entries)


def test_dataloader_worker_survives_corrupt_image(make_voc):
    root = _voc_with_one_corrupt_image(make_voc)
    ds = VOCDetection(root, "trainval", img_size=(64, 64), class_names=("a",))
    data = (root / "JPEGImages" / "im2.jpg").read_bytes()
    (root / "JPEGImages" / "im2.jpg").write_bytes(data[: len(data) // 2])
    mosaic = MosaicDetection(ds, (64, 64), preproc=TrainTransform(max_labels=20))
    sampler = InfiniteSampler(len(ds), seed=0)
    batch_sampler = YoloBatchSampler(sampler, batch_size=4, drop_last=False, mosaic=True)
    loader = DataLoader(
        mosaic, num_workers=1, batch_sampler=batch_sampler, worker_init_fn=worker_init_reset_seed
    )
    it = iter(loader)
    imgs, targets, _, _ = next(it)
    assert imgs.shape == (4, 3, 64, 64) and targets.shape == (4, 20, 5)
    loader.close_mosaic()
    for _ in range(3):  # plain items: index 2 is hit and substituted within the worker
        imgs, targets, _, _ = next(it)
        assert imgs.shape == (4, 3, 64, 64)
    del it


def test_dataloader_builds_its_batch_sampler_and_multiscale(make_voc):
    root = _voc_with_one_corrupt_image(make_voc)
    ds = VOCDetection(root, "trainval", img_size=(64, 64), class_names=("a",))
    loader = DataLoader(
        MosaicDetection(ds, (64, 64), preproc=TrainTransform()), batch_size=2, shuffle=True
    )
    assert isinstance(loader.batch_sampler, YoloBatchSampler)
    size = loader.change_input_dim(multiple=32, random_range=(1, 2))
    imgs, _, _, _ = next(iter(loader))
    assert imgs.shape[2:] == size and size[0] in (32, 64)


def test_prefetcher_moves_batches_to_cpu():
    batches = [(torch.ones(2, 3), torch.zeros(2, 5)), (torch.ones(1, 3), torch.zeros(1, 5))]
    pre = DataPrefetcher(batches, device="cpu")
    x, y = pre.next()
    assert x.shape == (2, 3) and y.device.type == "cpu"
    assert pre.next()[0].shape == (1, 3)
    assert pre.next() == (None, None)
    assert len(list(DataPrefetcher(batches, device="cpu"))) == 2


def test_get_yolox_datadir(monkeypatch, tmp_path):
    monkeypatch.setenv("YOLOX_DATADIR", str(tmp_path))
    assert get_yolox_datadir() == str(tmp_path)
    monkeypatch.delenv("YOLOX_DATADIR")
    monkeypatch.chdir(tmp_path)
    assert get_yolox_datadir() == str(tmp_path / "datasets")


def test_worker_seed_reset_changes_numpy_stream():
    np.random.seed(0)
    worker_init_reset_seed(0)
    a = np.random.rand()
    np.random.seed(0)
    worker_init_reset_seed(0)
    assert np.random.rand() != a

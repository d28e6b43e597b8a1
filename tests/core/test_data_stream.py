"""BatchStream: resuming at a position yields exactly the batches an unbroken stream yields."""

from __future__ import annotations

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from yolox.core.data_stream import BatchStream
from yolox.data.samplers import InfiniteSampler, YoloBatchSampler


class IndexDataset(Dataset):
    def __len__(self) -> int:
        return 7

    def __getitem__(self, key):
        index = key[1] if isinstance(key, tuple) else key  # YoloBatchSampler sends (mosaic, i)
        return torch.tensor([float(index)]), torch.zeros(1, 5)


def _take(stream: BatchStream, n: int) -> list[list[float]]:
    return [stream.next()[0].flatten().tolist() for _ in range(n)]


def test_resume_position_on_endless_sampler():
    def make_loader():
        sampler = YoloBatchSampler(InfiniteSampler(7, seed=3), batch_size=3, drop_last=False)
        return DataLoader(IndexDataset(), batch_sampler=sampler)

    full = BatchStream(make_loader(), torch.device("cpu"))
    expected = _take(full, 8)
    resumed = BatchStream(make_loader(), torch.device("cpu"))
    resumed.open(5)
    assert _take(resumed, 3) == expected[5:]
    assert resumed.position == 8
    # reopening at the current position (e.g. after a dataset change) continues the stream
    again = BatchStream(make_loader(), torch.device("cpu"))
    again.open(2)
    first = _take(again, 1)
    again.open(again.position)
    assert first + _take(again, 2) == expected[2:5]


def test_finite_loader_wraps_around_and_skips_within_a_pass():
    loader = DataLoader(IndexDataset(), batch_sampler=BatchSampler(range(7), 2, drop_last=False))
    stream = BatchStream(loader, torch.device("cpu"))
    stream.open(1)
    assert _take(stream, 4) == [[2.0, 3.0], [4.0, 5.0], [6.0], [0.0, 1.0]]


def test_random_sampler_still_iterates():
    loader = DataLoader(IndexDataset(), batch_size=7, sampler=RandomSampler(IndexDataset()))
    stream = BatchStream(loader, torch.device("cpu"))
    batches = _take(stream, 2)
    assert sorted(batches[0]) == sorted(batches[1]) == [float(i) for i in range(7)]

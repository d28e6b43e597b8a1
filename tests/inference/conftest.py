"""Session fixtures of the inference tests: a nano trained on the generated shapes dataset."""

from __future__ import annotations

import pytest
import torch

from yolox.testing.shapes_training import TrainedShapes, shapes_exp, train_shapes_nano


@pytest.fixture(scope="session")
def trained_synthetic(tmp_path_factory) -> TrainedShapes:
    """The generated dataset at 128 px, its exp and a nano trained on it for 200 steps (top
    validation scores ~0.7); ``with_attention(name)`` gives each attention type fine-tuned from
    it. Export copies of ``base``: exporting changes the head's decoding flag in place."""
    exp = shapes_exp(str(tmp_path_factory.mktemp("synthetic") / "data"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # session fixtures start before the autouse single_thread
    try:
        return train_shapes_nano(exp, steps=200)
    finally:
        torch.set_num_threads(threads)

"""One intra-op thread while each test here runs (small models on a shared, loaded machine)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """Two spinning OpenMP threads on a loaded 2-core machine make these small models several
    times slower (tests/conftest.py asks for 2); results must not depend on it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

"""A fake official release for the weights-by-name tests: the official keys, never the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import torch

__all__ = ["release_file", "cache_files"]

_DTYPES = {"float32": torch.float32, "int64": torch.int64}


def release_file(fixtures: Path, model: str, path: Path, seed: int = 0) -> Path:
    """A checkpoint in the official layout with exactly the official keys, shapes and dtypes
    (from ``fixtures/state_dict_keys/<model>.json``), random values."""
    keys = json.loads((fixtures / "state_dict_keys" / f"{model}.json").read_text())["keys"]
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape, dtype in keys:
        if name.endswith("running_var"):  # a variance: positive
            state[name] = torch.rand(shape, generator=gen) + 0.5
        elif _DTYPES[dtype].is_floating_point:
            state[name] = torch.randn(shape, generator=gen) * 0.1
        else:
            state[name] = torch.zeros(shape, dtype=_DTYPES[dtype])
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state}, path)
    return path


def cache_files(tmp_path: Path) -> List[str]:
    """The names in ``tmp_path/cache`` (the weights cache of these tests), sorted."""
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []

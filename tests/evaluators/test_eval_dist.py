"""yolox.utils.dist without a process group, and with a real two-process gloo group."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from yolox.utils import dist as d  # noqa: E402


def test_single_process_fallbacks() -> None:
    assert not dist.is_initialized()
    assert d.get_world_size() == 1 and d.get_rank() == 0 and d.get_local_rank() == 0
    assert d.is_main_process()
    d.synchronize()
    assert d.all_gather_object({"a": 1}) == [{"a": 1}]
    assert d.gather([1, 2]) == [[1, 2]]
    assert d.broadcast_object("x") == "x"
    assert d.all_reduce(3) == 3.0
    t = torch.tensor([1.0, 2.0])
    out = d.all_reduce(t, op="sum")
    assert torch.equal(out, t) and out is not t
    assert d.reduce_dict({"b": torch.tensor(2.0), "a": 1}) == {"a": 1.0, "b": torch.tensor(2.0)}
    with pytest.raises(ValueError):
        d.all_reduce(1.0, op="max")
    with d.wait_for_the_master():
        pass
    assert isinstance(d.time_synchronized(torch.device("cpu")), float)


@pytest.mark.skipif(
    not dist.is_available(), reason="torch.distributed is not available in this build"
)
def test_two_process_gloo(tmp_path: Path) -> None:
    import torch.multiprocessing as mp
    from eval_dist_worker import run_worker

    mp.spawn(run_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    found = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    for rank, f in enumerate(found):
        assert (f["world"], f["rank"], f["local_rank"], f["main"]) == (2, rank, rank, rank == 0)
        assert f["all_gather"] == [{"r": 0}, {"r": 1}]
        assert f["broadcast"] == "from 0"
        assert f["sum"] == 3.0
        assert f["mean_tensor"] == [0.5, 1.0]
        assert f["reduced"] == {"loss": 0.5, "n": 1.0}
        # Every image evaluated once across the two ranks: perfect scores, identical on both ranks.
        assert f["coco"] == pytest.approx([1.0, 1.0])
        assert f["voc"] == pytest.approx([1.0, 1.0])
    assert found[0]["gather"] == [0, 10] and found[1]["gather"] == []

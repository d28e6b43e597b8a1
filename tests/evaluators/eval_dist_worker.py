"""Body of the two-process (gloo, CPU) test in test_eval_dist.py; run by torch.multiprocessing.spawn."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def run_worker(rank: int, world_size: int, init_file: str, result_dir: str) -> None:
    """Exercise the dist helpers and distributed evaluate(); write this rank's findings to a file."""
    os.environ["LOCAL_RANK"] = str(rank)
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    try:
        from eval_fakes import INPUT_HW, FakeCOCODataset, FakeDetector, FakeLoader, FakeVOCDataset

        from yolox.evaluators import COCOEvaluator, VOCEvaluator
        from yolox.utils import dist as d

        found = {
            "world": d.get_world_size(),
            "rank": d.get_rank(),
            "local_rank": d.get_local_rank(),
            "main": d.is_main_process(),
            "all_gather": d.all_gather_object({"r": rank}),
            "gather": d.gather(rank * 10, dst=0),
            "broadcast": d.broadcast_object(f"from {rank}", src=0),
            "sum": d.all_reduce(rank + 1, op="sum"),
            "mean_tensor": d.all_reduce(torch.tensor([rank, 2.0 * rank]), op="mean").tolist(),
            "reduced": d.reduce_dict({"loss": torch.tensor(float(rank)), "n": 2 * rank}),
        }
        found["reduced"] = {k: float(v) for k, v in found["reduced"].items()}
        d.synchronize()
        # Disjoint shards, padded with a repeated image as DistributedSampler would do.
        shards = {0: [0, 2, 4], 1: [1, 3, 0]}
        coco = COCOEvaluator(
            FakeLoader(FakeCOCODataset(), 2, shards[rank], "image_id"), INPUT_HW, 0.01, 0.999, 3
        )
        found["coco"] = list(coco.evaluate(FakeDetector(), distributed=True)[:2])
        voc = VOCEvaluator(
            FakeLoader(FakeVOCDataset(), 2, shards[rank]), INPUT_HW, 0.01, 0.999, 3, metric="voc10"
        )
        found["voc"] = list(voc.evaluate(FakeDetector(), distributed=True)[:2])
        with d.wait_for_the_master():
            pass
        torch.save(found, os.path.join(result_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()

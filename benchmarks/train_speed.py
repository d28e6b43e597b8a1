"""Seconds per training iteration on CPU, split into data / forward / backward / optimizer step.

    python benchmarks/train_speed.py                       # nano and s at 416, batch 8
    python benchmarks/train_speed.py --models yolox-s --iters 8 --channels-last-too
    python benchmarks/train_speed.py --models yolox-nano yolox-s --bf16-too --no-epoch

Data come from the real mosaic loader of BCCD (``$YOLOX_TEST_DATA/BCCD``, else the generated
dataset). Each model is timed in its default memory format and, with ``--channels-last-too``,
in channels-last, interleaved iteration by iteration, so the ratio between the two is measured
under the same machine load. Medians over ``--iters`` iterations after ``--warmup``.
``--bf16-too`` adds channels-last training steps under bf16 autocast (``--precision bf16``), in
the same interleaving: the ratio to fp32 is the speed lever of native bf16 CPUs (AMX, AVX-512
BF16; the CPU line says which flags this one has). The last section times one full BCCD
training epoch of yolox-nano (205 images, batch 8).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from yolox.exp import get_exp
from yolox.utils.precision import cpu_description, precision_autocast
from yolox.utils.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def bccd_exp(model: str, size: int, data_dir: str | None):
    exp = get_exp(str(ROOT / "exps" / "example" / "yolox_nano_bccd.py"), None)
    zoo = get_exp(None, model)
    for field in ("depth", "width", "depthwise", "model_name"):
        setattr(exp, field, getattr(zoo, field))
    if data_dir is None:
        from yolox.exp.synthetic import SyntheticExp

        exp = SyntheticExp()
        exp.depth, exp.width, exp.depthwise, exp.model_name = (
            zoo.depth,
            zoo.width,
            zoo.depthwise,
            model,
        )
    else:
        exp.data_dir = data_dir
    exp.input_size = exp.test_size = (size, size)
    exp.random_size = (size // 32, size // 32)
    exp.data_num_workers = 0
    exp.seed = 0
    return exp


def time_iterations(exp, batch: int, iters: int, warmup: int, formats: list) -> dict:
    """Median seconds per phase for each memory format, formats interleaved per iteration."""
    torch.manual_seed(0)
    loader = exp.get_data_loader(batch_size=batch, is_distributed=False)
    stream = iter(loader)
    setups = {}
    for fmt in formats:
        exp.model = None
        exp.optimizer = None
        model = exp.get_model().train()
        if fmt != "contiguous":
            model = model.to(memory_format=torch.channels_last)
        optimizer = exp.get_optimizer(batch)
        for group in optimizer.param_groups:
            group["lr"] = 1e-4
        setups[fmt] = (model, optimizer)
    samples = {fmt: {"data": [], "forward": [], "backward": [], "step": []} for fmt in formats}
    for it in range(warmup + iters):
        for fmt in formats:
            model, optimizer = setups[fmt]
            t0 = time.perf_counter()
            imgs, targets = next(stream)[:2]
            imgs = imgs.float()
            if fmt != "contiguous":
                imgs = imgs.contiguous(memory_format=torch.channels_last)
            t1 = time.perf_counter()
            with precision_autocast("cpu", "bf16" if fmt == "channels_last_bf16" else "fp32"):
                loss = model(imgs, targets.float())["total_loss"]
            t2 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            t3 = time.perf_counter()
            optimizer.step()
            t4 = time.perf_counter()
            if it >= warmup:
                for key, value in zip(
                    ("data", "forward", "backward", "step"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
                ):
                    samples[fmt][key].append(value)
    return {
        fmt: {k: statistics.median(v) for k, v in phases.items()} for fmt, phases in samples.items()
    }


def bccd_epoch_seconds(data_dir: str, batch: int) -> tuple:
    exp = bccd_exp("yolox-nano", 416, data_dir)
    loader = exp.get_data_loader(batch_size=batch, is_distributed=False)
    model = exp.get_model().train()
    optimizer = exp.get_optimizer(batch)
    iters = -(-len(exp.dataset) // batch)
    stream = iter(loader)
    start = time.perf_counter()
    for _ in range(iters):
        imgs, targets = next(stream)[:2]
        loss = model(imgs.float(), targets.float())["total_loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, iters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["yolox-nano", "yolox-s"])
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--channels-last-too", action="store_true")
    parser.add_argument(
        "--bf16-too", action="store_true", help="also channels-last steps in bf16 autocast"
    )
    parser.add_argument("--no-epoch", action="store_true", help="skip the BCCD epoch timing")
    args = parser.parse_args()
    shared = os.environ.get("YOLOX_TEST_DATA")
    data_dir = str(Path(shared) / "BCCD") if shared and (Path(shared) / "BCCD").is_dir() else None
    formats = ["contiguous", "channels_last"] if args.channels_last_too else ["contiguous"]
    if args.bf16_too:
        formats += [f for f in ("channels_last", "channels_last_bf16") if f not in formats]
    cpu = cpu_description()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, data: {data_dir or 'generated'}"
    )
    print(f"CPU: {cpu['cpu']} (flags: {', '.join(cpu['cpu_flags'])})")
    print(
        f"input {args.size}x{args.size}, batch {args.batch}, median of {args.iters} iterations after {args.warmup}\n"
    )
    rows = []
    for model in args.models:
        result = time_iterations(
            bccd_exp(model, args.size, data_dir), args.batch, args.iters, args.warmup, formats
        )
        base = sum(result["contiguous"].values())
        for fmt, phases in result.items():
            total = sum(phases.values())
            rows.append(
                [model, fmt]
                + [f"{phases[k]:.3f}" for k in ("data", "forward", "backward", "step")]
                + [f"{total:.3f}", f"{total / base:.2f}"]
            )
    headers = ["model", "memory format", "data (s)", "forward+loss (s)", "backward (s)"]
    headers += ["step (s)", "total s/iter", "vs contiguous"]
    print(markdown_table(headers, rows, "llrrrrrr"))
    if not args.no_epoch and data_dir is not None:
        seconds, iters = bccd_epoch_seconds(data_dir, args.batch)
        print(
            f"\nBCCD train epoch, yolox-nano 416, batch {args.batch}: {seconds:.1f} s ({iters} iterations)"
        )


if __name__ == "__main__":
    main()

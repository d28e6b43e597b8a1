"""Does bf16 cost accuracy? Paired training runs (same seeds) in fp32 and bf16, each scored in
fp32 and bf16 eval, plus the time per run; every result file records the CPU.

    YOLOX_TEST_DATA=../shared/datasets python benchmarks/bf16_study.py \\
        -f exps/ablation/bccd_nano.py --seeds 0 1 2 --epochs 40 --batch 16 \\
        --output benchmarks/results/bf16_study_bccd_nano.json

For each seed it trains the exp twice through ``tools/train.py`` (``--precision fp32`` and
``--precision bf16``, everything else identical), then evaluates both best checkpoints with
``tools/eval.py`` in fp32 and in bf16 autocast. Read it as: paired AP difference (bf16 training
minus fp32 training, same seed) against the spread of fp32 AP over seeds; and the eval columns:
the AP bf16 inference costs a given checkpoint. Speed numbers only mean something on a CPU with
native bf16 (AMX or AVX-512 BF16; the JSON's ``cpu_flags``); elsewhere bf16 is emulated.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

import torch

from yolox.ablation.stats import compare
from yolox.utils.precision import cpu_description
from yolox.utils.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--exp_file", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--no-aug-epochs", type=int, default=None, help="default: epochs // 5")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "-c",
        "--ckpt",
        default=None,
        help="fine-tune every run from this checkpoint (a far smaller seed spread than from scratch)",
    )
    parser.add_argument("--work-dir", default="/tmp/bf16_study", help="training outputs")
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    return parser


def _run(command: List[str]) -> str:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def train(args, seed: int, precision: str) -> tuple:
    """(best checkpoint, seconds) of one training run."""
    name = f"seed{seed}_{precision}"
    no_aug = args.no_aug_epochs if args.no_aug_epochs is not None else max(1, args.epochs // 5)
    command = [sys.executable, "tools/train.py", "-f", args.exp_file, "-b", str(args.batch)]
    command += ["--device", "cpu", "--precision", precision, "-expn", name]
    command += ["seed", str(seed), "max_epoch", str(args.epochs), "no_aug_epochs", str(no_aug)]
    command += ["eval_interval", str(args.epochs), "output_dir", args.work_dir]
    command += ["save_history_ckpt", "False"]
    if args.ckpt:
        command += ["-c", args.ckpt]
    run_dir = Path(args.work_dir) / name
    timing = run_dir / "study_seconds.json"
    if timing.is_file() and (run_dir / "best_ckpt.pth").is_file():
        # a run finished by an earlier, interrupted invocation of this study: reuse it
        return run_dir / "best_ckpt.pth", json.loads(timing.read_text())["seconds"]
    start = time.perf_counter()
    _run(command)
    seconds = time.perf_counter() - start
    timing.write_text(json.dumps({"seconds": seconds}))
    return run_dir / "best_ckpt.pth", seconds


def evaluate(args, ckpt: Path, precision: str) -> tuple:
    """(AP50:95, AP50) in points of ``ckpt`` on the exp's validation set, eval in ``precision``."""
    from yolox.exp import get_exp
    from yolox.inference.loading import load_model
    from yolox.utils.precision import precision_autocast

    exp = get_exp(args.exp_file)
    model = load_model(ckpt, exp=exp, device="cpu").model
    with precision_autocast("cpu", precision):
        ap50_95, ap50, _ = exp.eval(model, exp.get_evaluator(8, False), False)
    return 100.0 * float(ap50_95), 100.0 * float(ap50)


def _p(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    rows = []
    for seed in args.seeds:
        for precision in ("fp32", "bf16"):
            ckpt, seconds = train(args, seed, precision)
            row = {"seed": seed, "train": precision, "train_s": seconds}
            for eval_precision in ("fp32", "bf16"):
                row[f"eval_{eval_precision}"] = evaluate(args, ckpt, eval_precision)
            rows.append(row)
            print(json.dumps(row), flush=True)
    command = "python benchmarks/bf16_study.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    cpu = cpu_description()
    fp32 = [r["eval_fp32"][0] for r in rows if r["train"] == "fp32"]
    bf16 = [r["eval_fp32"][0] for r in rows if r["train"] == "bf16"]
    paired = [b - f for b, f in zip(bf16, fp32)]
    print(
        f"\n{command}\nCPU: {cpu['cpu']} (flags: {', '.join(cpu['cpu_flags'])}), torch {torch.__version__}\n"
    )
    headers = ["seed", "training", "train (s)", "AP50:95 fp32 eval", "AP50:95 bf16 eval"]
    headers.append("AP50 fp32 eval")
    cells = [
        [r["seed"], r["train"], f"{r['train_s']:.0f}", f"{r['eval_fp32'][0]:.2f}"]
        + [f"{r['eval_bf16'][0]:.2f}", f"{r['eval_fp32'][1]:.2f}"]
        for r in rows
    ]
    print(markdown_table(headers, cells, "llrrrr"))
    spread = statistics.stdev(fp32) if len(fp32) > 1 else float("nan")
    print(
        f"\npaired AP50:95 difference, bf16 - fp32 training: {', '.join(f'{d:+.2f}' for d in paired)}"
        f" (mean {statistics.mean(paired):+.2f}); fp32 seed spread (stdev): {spread:.2f}"
    )
    verdict = compare(paired)  # the ablation report's test: paired t, TOST at +-0.5, MDE
    print(
        f"bf16 training against fp32: {verdict.verdict} (paired t p = {_p(verdict.p)}, "
        f"TOST p = {_p(verdict.p_tost)}, MDE = {_p(verdict.mde)})"
    )
    if args.output:
        Path(args.output).write_text(
            json.dumps(
                {
                    "command": command,
                    **cpu,
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "rows": rows,
                    "paired_difference": paired,
                    "fp32_seed_stdev": spread,
                    "verdict": dataclasses.asdict(verdict),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of each attention module: params, GFLOPs and latency next to the baseline, one command.

    python tools/bench.py                                   # nano, tiny, s x every attention type
    python tools/bench.py -m yolox-s -a cam se --positions dark3 dark4 dark5 --runs 50
    python tools/bench.py --deploy -f exps/ablation/bccd_nano.py -c best_ckpt.pth --threads 2

``--deploy`` answers "what should I ship on this machine?" for one checkpoint instead: every
CPU path (PyTorch fp32/bf16, fast path fp32/bf16, ONNX Runtime fp32/int8, OpenVINO
fp32/bf16/int8, where installed) measured for AP on the exp's validation set and batch-1
latency, one table with the CPU's capability flags, and the fastest path within
``--max-ap-drop`` AP50:95 points of PyTorch fp32 (:mod:`yolox.deploy.bench`).

Writes a markdown table and a JSON file (``--output-dir``, default ``benchmarks/results``).
Latency is the median of ``--runs`` batch-1 forwards after warm-up, with all variants of one
model interleaved in random order so that machine drift hits them equally. "vs none" is the
median over rounds of each round's ratio to the baseline (``paired_ratio``), with its quartiles:
pairing cancels the drift that a ratio of two medians still carries. On CPU, denormal floats
are flushed to zero while timing: freshly initialised weights drive deep activations towards
denormals, which slow CPU kernels down by an amount that has nothing to do with the architecture.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

from yolox.exp import get_checked_model, get_exp
from yolox.inference.fast import optimize_for_inference
from yolox.models import available_attention
from yolox.tools._common import parse_tsize
from yolox.utils.cli_args import (
    add_device_arg,
    add_exp_args,
    add_fast_arg,
    add_int8_check_args,
    add_no_latency_arg,
    add_precision_arg,
    add_size_arg,
    count,
    parse_command_line,
)
from yolox.utils.costs import measure_model_costs, timing_settings
from yolox.utils.device import select_device
from yolox.utils.errors import UserError, run_command
from yolox.utils.model_utils import fuse_model
from yolox.utils.precision import cpu_description, resolve_precision
from yolox.utils.tables import markdown_table

DEFAULT_MODELS = ("yolox-nano", "yolox-tiny", "yolox-s")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-m", "--models", nargs="+", default=list(DEFAULT_MODELS), help="zoo model names"
    )
    parser.add_argument(
        "-a",
        "--attention",
        nargs="+",
        default=["all"],
        help="attention types ('all' = every registered type)",
    )
    parser.add_argument(
        "--positions",
        nargs="+",
        default=["dark3", "dark4", "dark5"],
        help="neck positions for the modules",
    )
    add_size_arg(parser, help="input size H [W] (default: each model's test_size)")
    parser.add_argument("--runs", type=count(1), default=30, help="timed runs per variant")
    parser.add_argument("--warmup", type=count(0), default=5, help="untimed runs per variant first")
    add_device_arg(parser)
    parser.add_argument(
        "--no-fuse", action="store_true", help="time the unfused model (default: conv+BN fused)"
    )
    add_fast_arg(parser, "time the fast path (yolox.inference.fast: fused, SPPF, channels-last)")
    add_no_latency_arg(parser)
    parser.add_argument(
        "--threads", type=count(1), default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument(
        "--output-dir", default="benchmarks/results", help="where the .md and .json go"
    )
    parser.add_argument(
        "--tag", default=None, help="output file stem (default attention_cost, or deploy)"
    )
    add_precision_arg(
        parser,
        "fp32",
        "attention-cost timing in fp32 (default) or bf16 autocast (auto: bf16 where the "
        "CPU has AMX or AVX-512 BF16)",
    )
    deploy = parser.add_argument_group("--deploy: every CPU deployment path of one checkpoint")
    deploy.add_argument("--deploy", action="store_true", help="measure every deployment path")
    add_exp_args(deploy, "checkpoint to deploy", model_name=False, overrides=False)
    add_int8_check_args(deploy, 100)
    return parser


def _variant_spec(kind: str, positions: Sequence[str]):
    return None if kind == "none" else {"type": kind, "positions": list(positions)}


def _build(model_name: str, attention):
    exp = get_exp(None, model_name)
    exp.attention = attention
    return get_checked_model(exp), exp.test_size


def bench_model(model_name: str, kinds: Sequence[str], args, device: torch.device) -> List[Dict]:
    """One row per variant of ``model_name``: cost counts, then interleaved latency."""
    models, sizes = {}, set()
    for kind in ["none", *kinds]:
        model, test_size = _build(model_name, _variant_spec(kind, args.positions))
        models[kind] = model
        sizes.add(parse_tsize(args.tsize) or tuple(test_size))
    (size,) = sizes  # one model, one test size
    if args.fast:
        prepare = partial(optimize_for_inference, fuse=not args.no_fuse)
    else:
        prepare = None if args.no_fuse else fuse_model
    costs = measure_model_costs(
        models,
        size,
        baseline="none",
        latency=not args.no_latency,
        runs=args.runs,
        warmup=args.warmup,
        device=device,
        precision=args.resolved_precision,
        prepare=prepare,
    )
    rows = []
    for kind, entry in costs.items():
        row = {"model": model_name, "attention": kind, "tsize": list(size)}
        row.update({k: v for k, v in entry.items() if not k.startswith(("extra_", "ratio_"))})
        if "ratio_median" in entry:
            row["latency_ratio"] = entry["ratio_median"]
            row["latency_ratio_iqr"] = [entry["ratio_q1"], entry["ratio_q3"]]
        row.update(extra_params=entry["extra_params"], extra_gflops=entry["extra_gflops"])
        rows.append(row)
    return rows


def to_markdown(rows: List[Dict], with_latency: bool) -> str:
    headers = ["model", "attention", "input", "params (M)", "+params", "GFLOPs", "+GFLOPs"]
    align = "lllrrrr"
    if with_latency:
        headers += ["latency median (ms)", "IQR (ms)", "vs none", "vs none IQR"]
        align += "rrrl"
    cells = []
    for r in rows:
        row = [r["model"], r["attention"], f"{r['tsize'][0]}x{r['tsize'][1]}"]
        row += [f"{r['params_m']:.3f}", f"{r['extra_params']:,}", f"{r['gflops']:.3f}"]
        row.append(f"{r['extra_gflops']:.4f}")
        if with_latency:
            low, high = r["latency_ratio_iqr"]
            row += [f"{r['median_ms']:.1f}", f"{r['iqr_ms']:.1f}", f"{r['latency_ratio']:.3f}"]
            row.append(f"{low:.3f}-{high:.3f}")
        cells.append(row)
    return markdown_table(headers, cells, align)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_command_line(make_parser(), argv)
    return run_command("bench", lambda: run(args, argv))


def run_deploy(args: argparse.Namespace, argv: Optional[Sequence[str]]) -> int:
    """``--deploy``: measure, print the table and the verdict, write .md and .json."""
    from tqdm import tqdm

    from yolox.deploy.bench import measure_deploy_paths
    from yolox.inference.loading import load_model, resolve_checkpoint_path

    if not args.exp_file or not args.ckpt:
        raise UserError("--deploy needs the checkpoint (-c) and its experiment (-f)")
    exp = get_exp(args.exp_file)
    tsize = parse_tsize(args.tsize)
    if tsize:
        exp.test_size = tsize
    loaded = load_model(resolve_checkpoint_path(args.ckpt), exp=exp, device="cpu")
    with tqdm(total=12, desc="deploy", unit="step") as bar:

        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            bar.update(1)

        report = measure_deploy_paths(
            exp,
            loaded,
            calib_images=args.calib_images,
            runs=args.runs,
            warmup=args.warmup,
            threads=args.threads,
            max_ap_drop=args.max_ap_drop,
            keep_head_fp32=args.keep_head_fp32,
            progress=progress,
        )
    command = "python tools/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    table = report.table()
    print(table)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = args.tag or "deploy"
    meta = {"command": command, "torch": torch.__version__, "platform": platform.platform()}
    (out_dir / f"{tag}.json").write_text(json.dumps({"meta": meta, **report.to_dict()}, indent=2))
    (out_dir / f"{tag}.md").write_text(
        f"Command: `{command}`  \ntorch {torch.__version__}\n\n{table}\n"
    )
    print(f"wrote {out_dir / (tag + '.md')} and .json")
    return 0


def run(args: argparse.Namespace, argv: Optional[Sequence[str]]) -> int:
    if args.deploy:
        return run_deploy(args, argv)
    kinds = (
        available_attention()
        if args.attention == ["all"]
        else [k for k in args.attention if k != "none"]
    )
    unknown = sorted(set(kinds) - set(available_attention()))
    if unknown:
        raise UserError(f"unknown attention type(s) {unknown}; choose from {available_attention()}")
    device = select_device(args.device)
    args.resolved_precision = resolve_precision(args.precision, device)
    rows: List[Dict] = []
    with timing_settings(args.threads) as flushed:
        threads_used = torch.get_num_threads()
        for model_name in args.models:
            rows.extend(bench_model(model_name, kinds, args, device))
    table = to_markdown(rows, with_latency=not args.no_latency)
    print(table)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    args.tag = args.tag or "attention_cost"
    meta = {
        "command": "python tools/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "device": str(device),
        "torch": torch.__version__,
        "threads": threads_used,
        "platform": platform.platform(),
        "fused": not args.no_fuse,
        "fast": args.fast,
        "flush_denormal": flushed,
        "precision": args.resolved_precision,
        **cpu_description(),
    }
    (out_dir / f"{args.tag}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (out_dir / f"{args.tag}.md").write_text(
        f"Command: `{meta['command']}`  \nDevice: {meta['device']}, torch {meta['torch']}, "
        f"{meta['threads']} threads, fused={meta['fused']}, fast={meta['fast']}, "
        f"precision={meta['precision']}  \nCPU: {meta['cpu']} (flags: "
        f"{', '.join(meta['cpu_flags'])})\n\n{table}\n"
    )
    print(f"wrote {out_dir / (args.tag + '.md')} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

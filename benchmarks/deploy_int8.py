"""AP and latency of a trained checkpoint on every CPU deployment path, side by side.

    YOLOX_TEST_DATA=../shared/datasets python benchmarks/deploy_int8.py \\
        -f exps/ablation/bccd_nano.py -c YOLOX_outputs/bccd_nano/best_ckpt.pth \\
        --calib-images 300 --threads 1 --output benchmarks/results/deploy_int8_bccd_nano.json

The library's one deploy pipeline (:func:`yolox.deploy.bench.measure_deploy_paths`, what
``yolox-bench --deploy`` runs): eager fused PyTorch fp32 (the reference of the ratio column),
bf16 and the fast path, ONNX Runtime fp32 and int8, OpenVINO fp32, bf16 and int8. The int8
models are made as the export tools make them (``--accuracy-control`` here quantizes OpenVINO
int8 under NNCF's accuracy control), calibrated on the exp's training images letterboxed as
inference does. AP50:95 and AP50 come from the exp's own evaluator on its validation set;
latencies are batch-1 forwards at the exp's test size, interleaved in random order
(``latency_against_baseline``): compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from yolox.deploy.bench import measure_deploy_paths
from yolox.deploy.int8 import cpu_int8_flags
from yolox.exp import get_exp
from yolox.inference.loading import load_model


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--exp_file", required=True)
    parser.add_argument("-c", "--ckpt", required=True)
    parser.add_argument("--calib-images", type=int, default=300)
    parser.add_argument("--keep-head-fp32", action="store_true")
    parser.add_argument(
        "--accuracy-control",
        type=float,
        default=None,
        metavar="MAX_AP_DROP",
        help="OpenVINO int8 through NNCF's accuracy control with this AP50:95 budget",
    )
    parser.add_argument("--max-ap-drop", type=float, default=1.0, help="budget of the verdict")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    exp = get_exp(args.exp_file)
    loaded = load_model(args.ckpt, exp=exp, device="cpu")
    report = measure_deploy_paths(
        exp,
        loaded,
        calib_images=args.calib_images,
        runs=args.runs,
        warmup=args.warmup,
        threads=args.threads,
        max_ap_drop=args.max_ap_drop,
        keep_head_fp32=args.keep_head_fp32,
        accuracy_control=args.accuracy_control,
    )
    command = "python benchmarks/deploy_int8.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    flags = cpu_int8_flags()
    print(f"{command}\ntorch {torch.__version__}, {platform.platform()}")
    print(f"CPU int8 flags: {', '.join(flags) or 'none found'}\n")
    print(report.table())
    if args.output:
        meta = {"command": command, "torch": torch.__version__, "platform": platform.platform()}
        state = {"meta": meta, "cpu_int8_flags": list(flags), **report.to_dict()}
        Path(args.output).write_text(json.dumps(state, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

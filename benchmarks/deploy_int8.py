"""AP and latency of a trained checkpoint: eager fused PyTorch, OpenVINO fp32 and OpenVINO int8.

    YOLOX_TEST_DATA=../shared/datasets python benchmarks/deploy_int8.py \\
        -f exps/ablation/bccd_nano.py -c YOLOX_outputs/bccd_nano/best_ckpt.pth \\
        --calib-images 200 --threads 2 --output benchmarks/results/deploy_int8_bccd_nano.json

The int8 model is made exactly as ``tools/export_openvino.py --int8`` makes it (NNCF, calibrated
on the exp's training images letterboxed as inference does); AP50:95 and AP50 of fp32 and int8
come from the exp's own evaluator on its validation set; latencies are batch-1 forwards at the
exp's test size, interleaved in random order with eager fused PyTorch (the reference of the
ratio column, ``latency_against_baseline``).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from yolox.exp import get_exp  # noqa: E402
from yolox.inference.loading import class_names_for, load_model  # noqa: E402
from yolox.inference.openvino_export import (  # noqa: E402
    export_openvino,
    quantize_openvino,
    save_openvino,
)
from yolox.inference.quantize import calibration_images, compare_ap  # noqa: E402
from yolox.inference.runtimes import OpenVinoRuntime  # noqa: E402
from yolox.utils.model_utils import fuse_model  # noqa: E402
from yolox.utils.timing import latency_against_baseline  # noqa: E402


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--exp_file", required=True)
    parser.add_argument("-c", "--ckpt", required=True)
    parser.add_argument("--calib-images", type=int, default=300)
    parser.add_argument("--keep-head-fp32", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    exp = get_exp(args.exp_file)
    size = tuple(int(s) for s in exp.test_size)
    loaded = load_model(args.ckpt, exp=exp, device="cpu")
    tmp = Path(tempfile.mkdtemp())
    fp32_path, int8_path = tmp / "fp32.xml", tmp / "int8.xml"
    ov_model = export_openvino(
        copy.deepcopy(loaded.model),
        fp32_path,
        test_size=size,
        class_names=class_names_for(loaded, exp),
        config=loaded.config,
    )
    images = calibration_images(exp, args.calib_images, size)
    quantized = quantize_openvino(ov_model, images, keep_head_fp32=args.keep_head_fp32)
    save_openvino(quantized, int8_path)
    comparison = compare_ap(exp, fp32_path, int8_path)

    fused = fuse_model(copy.deepcopy(loaded.model).eval())
    fused.head.decode_in_inference = True
    x = torch.from_numpy(np.stack(images[:1]))
    fp32_rt = OpenVinoRuntime(fp32_path, threads=args.threads)
    int8_rt = OpenVinoRuntime(int8_path, threads=args.threads)

    def eager():
        with torch.inference_mode():
            return fused(x)

    feed = x.numpy()
    timings = latency_against_baseline(
        {
            "eager fused": eager,
            "OpenVINO fp32": lambda: fp32_rt.run(feed),
            "OpenVINO int8": lambda: int8_rt.run(feed),
        },
        torch.device("cpu"),
        "eager fused",
        args.runs,
        args.warmup,
    )
    command = "python benchmarks/deploy_int8.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(f"{command}\ntorch {torch.__version__}, {args.threads} threads, {platform.platform()}")
    print(f"\nAP on {exp.exp_name}'s validation set at {size[0]}x{size[1]} (points):")
    print(comparison.table())
    print("\n| variant | median (ms) | IQR (ms) | vs eager fused | its IQR |")
    print("|---|---:|---:|---:|---|")
    for name, stats in timings.items():
        print(
            f"| {name} | {stats['median_ms']:.1f} | {stats['iqr_ms']:.1f} | "
            f"{stats['ratio_median']:.3f} | {stats['ratio_q1']:.3f}-{stats['ratio_q3']:.3f} |"
        )
    if args.output:
        Path(args.output).write_text(
            json.dumps(
                {
                    "command": command,
                    "ap_points": {"fp32": comparison.fp32, "int8": comparison.int8},
                    "latency": timings,
                    "calibration_images": len(images),
                    "test_size": size,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

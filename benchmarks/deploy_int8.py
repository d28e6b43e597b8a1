"""AP and latency of a trained checkpoint on every CPU deployment path, side by side.

    YOLOX_TEST_DATA=../shared/datasets python benchmarks/deploy_int8.py \\
        -f exps/ablation/bccd_nano.py -c YOLOX_outputs/bccd_nano/best_ckpt.pth \\
        --calib-images 300 --threads 1 --output benchmarks/results/deploy_int8_bccd_nano.json

Paths: eager fused PyTorch (the reference of the ratio column), ONNX Runtime fp32 and int8, and
OpenVINO fp32 and int8. The int8 models are made exactly as the tools make them:
``tools/export_onnx.py --int8`` (ONNX Runtime static QDQ; u8 weights on CPUs without VNNI) and
``tools/export_openvino.py --int8`` (NNCF; ``--accuracy-control`` here too), calibrated on the
exp's training images letterboxed as inference does. AP50:95 and AP50 come from the exp's own
evaluator on its validation set; latencies are batch-1 forwards at the exp's test size,
interleaved in random order (``latency_against_baseline``): compare ratios, not milliseconds.
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

from yolox.exp import get_exp
from yolox.inference.export import export_onnx
from yolox.inference.loading import class_names_for, load_model
from yolox.inference.openvino_export import export_openvino, quantize_openvino, save_openvino
from yolox.inference.quantize import (
    ValidationScorer,
    calibration_images,
    cpu_int8_flags,
    quantize_onnx,
    score_exported,
)
from yolox.inference.runtimes import open_runtime
from yolox.utils.model_utils import fuse_model
from yolox.utils.precision import cpu_description
from yolox.utils.timing import latency_against_baseline


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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    return parser


def export_all(exp, loaded, images, size, tmp: Path, args) -> dict:
    """path name -> exported file, made as the tools make them."""
    names = class_names_for(loaded, exp)
    files = {"ONNX Runtime fp32": tmp / "fp32.onnx", "OpenVINO fp32": tmp / "fp32.xml"}
    export_onnx(
        copy.deepcopy(loaded.model),
        files["ONNX Runtime fp32"],
        test_size=size,
        opset=13,
        class_names=names,
        config=loaded.config,
    )
    files["ONNX Runtime int8"] = Path(
        quantize_onnx(
            files["ONNX Runtime fp32"],
            tmp / "int8.onnx",
            images,
            keep_head_fp32=args.keep_head_fp32,
        )
    )
    ov_model = export_openvino(
        copy.deepcopy(loaded.model),
        files["OpenVINO fp32"],
        test_size=size,
        class_names=names,
        config=loaded.config,
    )
    accuracy = None if args.accuracy_control is None else ValidationScorer(exp)
    quantized = quantize_openvino(
        ov_model,
        images,
        keep_head_fp32=args.keep_head_fp32,
        accuracy=accuracy,
        max_ap_drop=args.accuracy_control or 0.0,
    )
    files["OpenVINO int8"] = Path(save_openvino(quantized, tmp / "int8.xml"))
    return files


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    exp = get_exp(args.exp_file)
    size = tuple(int(s) for s in exp.test_size)
    loaded = load_model(args.ckpt, exp=exp, device="cpu")
    images = calibration_images(exp, args.calib_images, size)
    files = export_all(exp, loaded, images, size, Path(tempfile.mkdtemp()), args)
    evaluator = exp.get_evaluator(8, False)
    ap = {name: score_exported(exp, path, evaluator=evaluator) for name, path in files.items()}
    ap50_95, ap50, _ = exp.eval(loaded.model.eval(), evaluator, False)
    ap["eager fused"] = (100.0 * ap50_95, 100.0 * ap50)

    fused = fuse_model(copy.deepcopy(loaded.model).eval())
    fused.head.decode_in_inference = True
    x = torch.from_numpy(np.stack(images[:1]))
    feed = x.numpy()

    def eager():
        with torch.inference_mode():
            return fused(x)

    runners = {"eager fused": eager}
    for name, path in files.items():
        runners[name] = lambda runtime=open_runtime(path, threads=args.threads): runtime.run(feed)
    timings = latency_against_baseline(
        runners,
        torch.device("cpu"),
        "eager fused",
        args.runs,
        args.warmup,
    )
    command = "python benchmarks/deploy_int8.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    flags = cpu_int8_flags()
    print(f"{command}\ntorch {torch.__version__}, {args.threads} threads, {platform.platform()}")
    cpu = cpu_description()
    print(f"CPU: {cpu['cpu']} (flags: {', '.join(cpu['cpu_flags'])})")
    print(f"CPU int8 flags: {', '.join(flags) or 'none found'}")
    print(f"\n{exp.exp_name} at {size[0]}x{size[1]}, AP on its validation set (points):\n")
    print("| path | AP50:95 | AP50 | median (ms) | IQR (ms) | vs eager fused | its IQR |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, stats in timings.items():
        ap50_95, ap50 = ap[name]
        print(
            f"| {name} | {ap50_95:.2f} | {ap50:.2f} | {stats['median_ms']:.1f} | "
            f"{stats['iqr_ms']:.1f} | {stats['ratio_median']:.3f} | "
            f"{stats['ratio_q1']:.3f}-{stats['ratio_q3']:.3f} |"
        )
    if args.output:
        Path(args.output).write_text(
            json.dumps(
                {
                    "command": command,
                    "cpu_int8_flags": list(flags),
                    **cpu,
                    "ap_points": ap,
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

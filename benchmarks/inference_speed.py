"""CPU inference latency of the fast path against plain eager PyTorch, measured in the same run.

    python benchmarks/inference_speed.py                       # yolox-s@640 and yolox-nano@416
    python benchmarks/inference_speed.py --compile --onnx       # plus torch.compile and ONNX Runtime
    python benchmarks/inference_speed.py --onnx --openvino --int8  # plus OpenVINO, int8 rows
    python benchmarks/inference_speed.py --official-python /opt/official/bin/python  # + official

Variants (cumulative steps of :func:`yolox.inference.fast.optimize_for_inference`): eager
unfused, eager fused (the reference of the ratio column), + SPPF pooling, + channels-last
(= the default fast path), optionally + torch.compile, ONNX Runtime on the fused model, OpenVINO
fp32 (the dynamic-shape IR of ``tools/export_openvino.py``, run by the same runtime as the
predictor), and with ``--int8`` OpenVINO int8 (NNCF) and ONNX Runtime int8 (static QDQ,
per-channel weights, once with s8 and once with u8 weights: ``tools/export_onnx.py --int8``
picks u8 on CPUs without VNNI), all calibrated on a few images (speed does not depend on which).
The JSON records the CPU's int8-relevant flags (AVX2, AVX-512, VNNI, AMX).
All variants of one model are timed interleaved in random order
(``latency_against_baseline``), so load from other processes hits them equally: compare ratios,
not absolute milliseconds. The ratio column is the median of per-round ratios to eager fused
(``paired_ratio``), with quartiles. Every variant's output is compared with eager unfused: max abs difference and max difference relative
to each output column's scale (boxes in pixels, scores in 0..1).

``--official-python PYTHON`` adds "official YOLOX eager fused": Megvii's own package, imported
by another environment's interpreter in a worker process (never by this one, and never a
dependency; :mod:`yolox.testing.official_yolox`). The worker builds the network with the official
constructors, loads this model's state dict strictly (the keys are the official ones), fuses it
with the official ``fuse_model`` and runs on the same thread count; each timed call is one
request over a pipe (tens of microseconds idle, up to a few milliseconds of wake-up under load)
and one forward there, interleaved in the same rounds as the other variants. Its output should sit as close to eager unfused as our own "eager fused"
does; a relative difference above 1e-2 prints a WARNING (same weights, another network: the
checkpoint-compatibility promise is broken). The table is followed by the package's path and
version, so a row from the wrong environment shows.

Weights: random, then made realistic with the tests' ``perturb_`` (BN statistics measured on
images). A freshly initialised YOLOX shrinks activations to denormal floats by dark5, which makes
every CPU kernel ~15x slower and would measure nothing useful.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch

import yolox
from yolox.deploy.int8 import cpu_int8_flags
from yolox.exp import get_exp
from yolox.inference.fast import (
    chain_spp_pools,
    optimize_for_inference,
    to_channels_last,
)
from yolox.testing.fixtures import perturb_
from yolox.testing.official_yolox import OfficialYoloxModel
from yolox.utils.errors import run_command
from yolox.utils.model_utils import fuse_model, profile_model
from yolox.utils.precision import cpu_description, precision_autocast
from yolox.utils.tables import markdown_table
from yolox.utils.timing import latency_against_baseline


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["yolox-s:640", "yolox-nano:416"],
        help="NAME:SIZE pairs (zoo name, square input size)",
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per variant first")
    parser.add_argument("--threads", type=int, default=2, help="torch (and ORT) CPU threads")
    parser.add_argument("--compile", action="store_true", help="add a torch.compile variant")
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="add the fast path under bf16 autocast (pays where the CPU has AMX or AVX-512 BF16)",
    )
    parser.add_argument("--onnx", action="store_true", help="add an ONNX Runtime variant")
    parser.add_argument("--openvino", action="store_true", help="add an OpenVINO fp32 variant")
    parser.add_argument(
        "--int8", action="store_true", help="add int8 variants (OpenVINO+NNCF; ORT with --onnx)"
    )
    parser.add_argument(
        "--calib-images", type=int, default=8, help="calibration images of the int8 variants"
    )
    parser.add_argument(
        "--official-python",
        default=None,
        metavar="PYTHON",
        help="interpreter of another environment with official (Megvii) YOLOX installed: "
        "adds an 'official YOLOX eager fused' row",
    )
    parser.add_argument("--output", default=None, help="write the rows as JSON here")
    return parser


def build(name: str) -> torch.nn.Module:
    torch.manual_seed(0)  # same random weights in every run
    model = get_exp(None, name).get_model()
    perturb_(model, seed=0)
    model.eval().requires_grad_(False)
    model.head.decode_in_inference = True
    return model


def calibration_batch(x: torch.Tensor, count: int) -> List:
    """``count`` smooth random images of ``x``'s size (CHW float32 arrays, 0..255)."""
    gen = torch.Generator().manual_seed(1)
    coarse = torch.rand(count, 3, 8, 8, generator=gen) * 255
    smooth = torch.nn.functional.interpolate(coarse, size=x.shape[2:], mode="bicubic")
    return list(smooth.clamp(0, 255).numpy())


def _decoding(run: Callable, x: torch.Tensor, strides) -> Callable:
    """A runner returning decoded outputs from a raw-output runtime call."""
    from yolox.inference.decode import decode_outputs

    feed = x.numpy()
    return lambda: torch.from_numpy(decode_outputs(run(feed), x.shape[2:], strides))


def onnx_runners(model: torch.nn.Module, x: torch.Tensor, args) -> Dict[str, tuple]:
    """ONNX Runtime sessions on the fused model: fp32, and int8 (static QDQ) with ``--int8``."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return {}
    from yolox.deploy.export import export_onnx
    from yolox.deploy.runtimes import OnnxRuntime

    out = {}
    start = time.perf_counter()
    path = Path(tempfile.mkdtemp()) / "model.onnx"
    # opset 13: per-channel QDQ (DequantizeLinear with an axis) needs it
    export_onnx(
        copy.deepcopy(model), path, test_size=x.shape[2:], decode_in_inference=False, opset=13
    )
    runtime = OnnxRuntime(path, threads=args.threads)
    out["ONNX Runtime (fused)"] = (
        _decoding(runtime.run, x, model.head.strides),
        time.perf_counter() - start,
    )
    if args.int8:
        from yolox.deploy.quantize_onnxruntime import quantize_onnx

        # the tool's quantizer (tools/export_onnx.py --int8), with each weight type: it picks
        # u8 weights on CPUs without VNNI (s8 saturates there and loses AP), s8 on the others
        for label, signed in (("s8", True), ("u8", False)):
            start = time.perf_counter()
            int8_path = quantize_onnx(
                path,
                path.with_name(f"model_int8_{label}.onnx"),
                calibration_batch(x, args.calib_images),
                signed_weights=signed,
            )
            runtime = OnnxRuntime(int8_path, threads=args.threads)
            out[f"ONNX Runtime int8 ({label} weights)"] = (
                _decoding(runtime.run, x, model.head.strides),
                time.perf_counter() - start,
            )
    return out


def openvino_runners(model: torch.nn.Module, x: torch.Tensor, args) -> Dict[str, tuple]:
    """The OpenVINO IR as ``tools/export_openvino.py`` writes it, fp32 and (``--int8``) int8."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return {}
    from yolox.deploy.openvino_export import export_openvino, save_openvino
    from yolox.deploy.quantize_nncf import quantize_openvino
    from yolox.deploy.runtimes import OpenVinoRuntime

    out = {}
    start = time.perf_counter()
    path = Path(tempfile.mkdtemp()) / "model.xml"
    ov_model = export_openvino(copy.deepcopy(model), path, test_size=x.shape[2:])
    runtime = OpenVinoRuntime(path, threads=args.threads)
    out["OpenVINO fp32"] = (
        _decoding(runtime.run, x, model.head.strides),
        time.perf_counter() - start,
    )
    if args.int8:
        start = time.perf_counter()
        # no bias correction: it only changes bias values (not the speed) and takes minutes on s
        quantized = quantize_openvino(
            ov_model, calibration_batch(x, args.calib_images), fast_bias_correction=None
        )
        int8_path = save_openvino(quantized, path.with_name("model_int8.xml"))
        runtime = OpenVinoRuntime(int8_path, threads=args.threads)
        out["OpenVINO int8 (NNCF)"] = (
            _decoding(runtime.run, x, model.head.strides),
            time.perf_counter() - start,
        )
    return out


def variants(model: torch.nn.Module, x: torch.Tensor, args) -> Dict[str, tuple]:
    """name -> (runner, setup seconds); each runner returns the decoded outputs."""

    def eager(m: torch.nn.Module) -> Callable:
        def run():
            with torch.inference_mode():
                return m(x)

        return run

    out: Dict[str, tuple] = {"eager unfused": (eager(model), 0.0)}
    fused = fuse_model(copy.deepcopy(model))
    out["eager fused"] = (eager(fused), 0.0)
    sppf = copy.deepcopy(fused)
    chain_spp_pools(sppf)
    out["+ SPPF pooling"] = (eager(sppf), 0.0)
    channels_last = to_channels_last(copy.deepcopy(sppf))
    out["+ channels-last (fast path)"] = (eager(channels_last), 0.0)
    if args.bf16:

        def fast_bf16() -> torch.Tensor:
            with torch.inference_mode(), precision_autocast("cpu", "bf16"):
                return channels_last(x)

        out["fast path, bf16 autocast"] = (fast_bf16, 0.0)
    if args.compile:
        start = time.perf_counter()
        compiled = optimize_for_inference(
            copy.deepcopy(model), compile=True, example_input=x, copy=False
        )
        out["+ torch.compile"] = (eager(compiled), time.perf_counter() - start)
    if args.onnx:
        out.update(onnx_runners(fused, x, args))
    if args.openvino or args.int8:
        out.update(openvino_runners(fused, x, args))
    return out


OFFICIAL_ROW = "official YOLOX eager fused"

#: relative difference above which official YOLOX and this project compute different networks
#: (conv+BN folding alone differs by ~1e-4, see the table)
OFFICIAL_MAX_REL_DIFF = 1e-2


def official_runner(
    model: torch.nn.Module, x: torch.Tensor, args, cleanup: contextlib.ExitStack
) -> tuple:
    """Official YOLOX's eager fused model in ``--official-python`` (its worker process ends when
    ``cleanup`` closes), and its setup seconds."""
    start = time.perf_counter()
    official = OfficialYoloxModel(args.official_python, model, x, threads=args.threads)
    return cleanup.enter_context(official), time.perf_counter() - start


def describe_official(row: Dict) -> str:
    """Where the official row's package came from, and a loud warning when the row disagrees."""
    info = row["official_yolox"]
    lines = [
        f"{OFFICIAL_ROW} ({row['model']}): yolox {info['yolox_version']} from {info['yolox_file']}, "
        f"torch {info['torch_version']}, {info['threads']} threads"
    ]
    if Path(info["yolox_file"]).parent == Path(yolox.__file__).resolve().parent:
        lines.append("  note: that is this project's own package, not Megvii's YOLOX")
    if row["max_rel_diff"] > OFFICIAL_MAX_REL_DIFF:
        lines.append(
            f"  WARNING: official YOLOX's output differs from this project's by "
            f"{row['max_rel_diff']:.2e} of the output scale (> {OFFICIAL_MAX_REL_DIFF:g}): the "
            "same weights give another network, so checkpoint compatibility is broken"
        )
    return "\n".join(lines)


#: paired-ratio keys of ``latency_against_baseline`` -> the column names of this table
VS_FUSED_KEYS = {"ratio_median": "vs_fused", "ratio_q1": "vs_fused_q1", "ratio_q3": "vs_fused_q3"}


def _renamed(stats: Dict[str, float], names: Dict[str, str]) -> Dict[str, float]:
    return {names.get(key, key): value for key, value in stats.items()}


def bench(spec: str, args) -> List[Dict]:
    name, size = spec.split(":")
    size = int(size)
    model = build(name)
    gflops = profile_model(model, (size, size))["gflops"]
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0)) * 255
    with contextlib.ExitStack() as cleanup:
        runs = variants(model, x, args)
        if args.official_python:
            runs[OFFICIAL_ROW] = official_runner(model, x, args, cleanup)
        with torch.inference_mode():
            reference = model(x)
        scale = reference.abs().amax(dim=(0, 1)).clamp(min=1.0)
        timings = latency_against_baseline(
            {k: v[0] for k, v in runs.items()},
            torch.device("cpu"),
            "eager fused",
            args.runs,
            args.warmup,
        )
        rows = []
        for variant, (runner, setup_s) in runs.items():
            diff = (runner().float() - reference).abs()
            rows.append(
                {
                    "model": name,
                    "size": size,
                    "gflops": gflops,
                    "variant": variant,
                    "setup_s": setup_s,
                    "max_abs_diff": float(diff.max()),
                    "max_rel_diff": float((diff.amax(dim=(0, 1)) / scale).max()),
                    **_renamed(timings[variant], VS_FUSED_KEYS),
                }
            )
            if isinstance(runner, OfficialYoloxModel):
                rows[-1]["official_yolox"] = runner.info
    return rows


def to_markdown(rows: Sequence[Dict]) -> str:
    headers = ["model", "input", "variant", "median (ms)", "IQR (ms)", "vs eager fused"]
    headers += ["its IQR", "GFLOP/s", "max abs diff", "max rel diff", "setup (s)"]
    cells = [
        [r["model"], r["size"], r["variant"], f"{r['median_ms']:.1f}", f"{r['iqr_ms']:.1f}"]
        + [f"{r['vs_fused']:.3f}", f"{r['vs_fused_q1']:.3f}-{r['vs_fused_q3']:.3f}"]
        + [f"{r['gflops'] / r['median_ms'] * 1e3:.0f}", f"{r['max_abs_diff']:.2e}"]
        + [f"{r['max_rel_diff']:.2e}", f"{r['setup_s']:.1f}"]
        for r in rows
    ]
    return markdown_table(headers, cells, "lllrrrlrrrr")


def run(args, argv: Sequence[str]) -> int:
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # tracer/exporter chatter
    rows: List[Dict] = []
    for spec in args.models:
        rows.extend(bench(spec, args))
        print(to_markdown([r for r in rows if r["model"] == spec.split(":")[0]]), flush=True)
    meta = {
        "command": "python benchmarks/inference_speed.py " + " ".join(argv),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "cpu_int8_flags": list(cpu_int8_flags()),
        **cpu_description(),
        "runs": args.runs,
        "warmup": args.warmup,
    }
    print(f"\n{meta['command']} | torch {meta['torch']}, {meta['threads']} threads")
    print(f"CPU: {meta['cpu']} (flags: {', '.join(meta['cpu_flags'])})")
    print(to_markdown(rows))
    for row in rows:
        if "official_yolox" in row:
            print(describe_official(row))
    if args.output:
        Path(args.output).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(argv if argv is not None else sys.argv[1:])
    args = make_parser().parse_args(argv)
    return run_command("inference_speed", lambda: run(args, argv))


if __name__ == "__main__":
    sys.exit(main())

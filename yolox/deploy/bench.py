"""Every CPU deployment path of one checkpoint, measured for AP and latency side by side.

Answers "what should I ship on this machine?" (``yolox-bench --deploy``): PyTorch eager (fused)
fp32 and bf16, the fast path (:mod:`yolox.inference.fast`) fp32 and bf16, ONNX Runtime fp32 and
int8, OpenVINO fp32, bf16 and int8, where the runtime is installed. The exported models are made
as the export tools make them (:func:`~yolox.deploy.quantize_onnxruntime.quantize_onnx`,
:func:`~yolox.deploy.quantize_nncf.quantize_openvino`, with NNCF's accuracy control when asked,
:func:`~yolox.deploy.openvino_export.mark_bf16`), the AP comes from the exp's own evaluator on its validation set (loaded once),
latencies are batch-1 forwards at the exp's test size, all paths interleaved in random order
(:func:`yolox.utils.timing.latency_against_baseline`, ratio to PyTorch fp32 in the same rounds).
Library code: returns a :class:`DeployReport`; the tool prints it.
"""

from __future__ import annotations

import copy
import importlib.util
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from yolox.inference.fast import optimize_for_inference
from yolox.inference.loading import LoadedModel, class_names_for
from yolox.utils.precision import cpu_description, precision_autocast
from yolox.utils.timing import latency_against_baseline

from .compare import score_exported
from .int8 import AP_FLOOR, calibration_images
from .quantize_onnxruntime import quantize_onnx

__all__ = ["BASELINE", "DeployPath", "DeployReport", "measure_deploy_paths"]

#: the reference of the ratio column and of the AP budget
BASELINE = "PyTorch fp32"


@dataclass
class DeployPath:
    """One path's AP (points) and latency (ms, batch 1), or why it was not measured."""

    name: str
    ap50_95: Optional[float] = None
    ap50: Optional[float] = None
    median_ms: Optional[float] = None
    iqr_ms: Optional[float] = None
    ratio: Optional[float] = None
    skipped: Optional[str] = None
    ratio_q1: Optional[float] = None  #: quartiles of the per-round ratio to the baseline
    ratio_q3: Optional[float] = None


@dataclass
class DeployReport:
    """All paths, the CPU they ran on, and the fastest within ``max_ap_drop`` of PyTorch fp32."""

    exp_name: str
    test_size: Tuple[int, int]
    threads: int
    max_ap_drop: float
    cpu: Dict[str, Any]
    paths: List[DeployPath] = field(default_factory=list)

    @property
    def fastest(self) -> Optional[DeployPath]:
        """The fastest measured path whose AP50:95 is within the budget of PyTorch fp32's."""
        base = next(p for p in self.paths if p.name == BASELINE)
        ok = [
            p
            for p in self.paths
            if p.median_ms is not None
            and p.ap50_95 is not None
            and base.ap50_95 - p.ap50_95 <= self.max_ap_drop
        ]
        return min(ok, key=lambda p: p.median_ms) if ok else None

    @property
    def ap_can_judge(self) -> bool:
        """False when PyTorch fp32 scores below :data:`AP_FLOOR`: AP drops then mean nothing."""
        base = next(p for p in self.paths if p.name == BASELINE)
        return base.ap50_95 is not None and base.ap50_95 >= AP_FLOOR

    def to_dict(self) -> Dict[str, Any]:
        state = asdict(self)
        fastest = self.fastest
        state["fastest"] = fastest.name if fastest else None
        return state

    def table(self) -> str:
        """Markdown: one row per path, the CPU above it, the verdict below it."""
        flags = ", ".join(self.cpu["cpu_flags"]) or "none of the listed"
        lines = [
            f"CPU: {self.cpu['cpu']} (flags: {flags}; torch capability "
            f"{self.cpu['torch_cpu_capability']}), {self.threads} threads",
            f"{self.exp_name} at {self.test_size[0]}x{self.test_size[1]}, batch 1; AP on its "
            "validation set (points)",
            "",
            f"| path | AP50:95 | AP50 | median (ms) | IQR (ms) | vs {BASELINE} |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for p in self.paths:
            if p.skipped:
                lines.append(f"| {p.name} | - | - | - | - | {p.skipped} |")
                continue
            lines.append(
                f"| {p.name} | {p.ap50_95:.2f} | {p.ap50:.2f} | {p.median_ms:.1f} | "
                f"{p.iqr_ms:.1f} | {p.ratio:.3f} |"
            )
        fastest = self.fastest
        lines.append("")
        if fastest is not None:
            lines.append(
                f"Fastest within {self.max_ap_drop:g} AP50:95 of {BASELINE}: **{fastest.name}** "
                f"({fastest.median_ms:.1f} ms, {fastest.ratio:.2f}x)"
            )
        if not self.ap_can_judge:
            lines.append(
                f"The AP budget cannot judge this model: {BASELINE} scores below {AP_FLOOR:g} "
                "AP50:95 (untrained?); compare paths on a trained checkpoint"
            )
        return "\n".join(lines)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _exported_paths(
    exp: Any,
    loaded: LoadedModel,
    images: List[np.ndarray],
    size,
    folder: Path,
    keep_head: bool,
    accuracy_control: Optional[float],
) -> Dict[str, Any]:
    """name -> exported file, or name -> the reason it is missing. ``accuracy_control``: the
    AP50:95 budget of NNCF's accuracy control for OpenVINO int8 (None: plain quantization)."""
    from .export import export_onnx

    names = class_names_for(loaded, exp)
    files: Dict[str, Any] = {}
    if _available("onnxruntime") and _available("onnx"):
        onnx_fp32 = folder / "fp32.onnx"
        export_onnx(
            copy.deepcopy(loaded.model),
            onnx_fp32,
            test_size=size,
            opset=13,
            class_names=names,
            config=loaded.config,
        )
        files["ONNX Runtime fp32"] = onnx_fp32
        files["ONNX Runtime int8"] = Path(
            quantize_onnx(onnx_fp32, folder / "int8.onnx", images, keep_head_fp32=keep_head)
        )
    else:
        files["ONNX Runtime fp32"] = files["ONNX Runtime int8"] = "onnxruntime not installed"
    if _available("openvino"):
        from .openvino_export import export_openvino, mark_bf16, save_openvino

        ov_model = export_openvino(
            copy.deepcopy(loaded.model),
            folder / "fp32.xml",
            test_size=size,
            class_names=names,
            config=loaded.config,
        )
        files["OpenVINO fp32"] = folder / "fp32.xml"
        files["OpenVINO bf16"] = Path(
            save_openvino(mark_bf16(ov_model.clone()), folder / "bf16.xml")
        )
        if _available("nncf"):
            from .quantize_nncf import ValidationScorer, quantize_openvino

            quantized = quantize_openvino(
                ov_model,
                images,
                keep_head_fp32=keep_head,
                accuracy=None if accuracy_control is None else ValidationScorer(exp),
                max_ap_drop=accuracy_control or 0.0,
            )
            files["OpenVINO int8"] = Path(save_openvino(quantized, folder / "int8.xml"))
        else:
            files["OpenVINO int8"] = "nncf not installed"
    else:
        for name in ("OpenVINO fp32", "OpenVINO bf16", "OpenVINO int8"):
            files[name] = "openvino not installed"
    return files


def measure_deploy_paths(
    exp: Any,
    loaded: LoadedModel,
    calib_images: int = 100,
    runs: int = 20,
    warmup: int = 3,
    threads: Optional[int] = None,
    max_ap_drop: float = 1.0,
    keep_head_fp32: bool = False,
    eval_batch_size: int = 8,
    progress: Optional[Callable[[str], None]] = None,
    accuracy_control: Optional[float] = None,
) -> DeployReport:
    """Measure every path (see the module docstring) of ``loaded`` on ``exp``'s data.

    ``progress(step)`` is called before each step (the tool drives a progress bar with it).
    ``accuracy_control``: quantize OpenVINO int8 under NNCF's accuracy control with this
    AP50:95 budget (slow; None: plain post-training quantization, as ``--int8`` exports).
    """
    from yolox.utils.model_utils import fuse_model

    from .runtimes import open_runtime

    step = progress or (lambda _name: None)
    size = tuple(int(s) for s in exp.test_size)
    if threads:
        torch.set_num_threads(int(threads))
    threads_used = torch.get_num_threads()
    step("calibration images")
    images = calibration_images(exp, calib_images, size)
    eager = fuse_model(copy.deepcopy(loaded.model).eval())
    fast = optimize_for_inference(copy.deepcopy(loaded.model))
    torch_models = {
        "PyTorch fp32": (eager, "fp32"),
        "PyTorch bf16": (eager, "bf16"),
        "PyTorch fast fp32": (fast, "fp32"),
        "PyTorch fast bf16": (fast, "bf16"),
    }
    report = DeployReport(
        exp_name=exp.exp_name,
        test_size=size,
        threads=threads_used,
        max_ap_drop=float(max_ap_drop),
        cpu=cpu_description(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        step("export and quantize")
        files = _exported_paths(
            exp, loaded, images, size, Path(tmp), keep_head_fp32, accuracy_control
        )
        evaluator = exp.get_evaluator(eval_batch_size, False)
        results: Dict[str, DeployPath] = {}
        for name, (model, precision) in torch_models.items():
            step(f"AP: {name}")
            with precision_autocast("cpu", precision):
                ap50_95, ap50, _ = exp.eval(model, evaluator, False)
            results[name] = DeployPath(name, 100.0 * float(ap50_95), 100.0 * float(ap50))
        runtimes = {}
        for name, path in files.items():
            if isinstance(path, str):
                results[name] = DeployPath(name, skipped=path)
                continue
            step(f"AP: {name}")
            ap50_95, ap50 = score_exported(exp, path, evaluator=evaluator)
            results[name] = DeployPath(name, ap50_95, ap50)
            runtimes[name] = open_runtime(path, threads=threads_used)

        x = torch.from_numpy(np.stack(images[:1]))
        feed = x.numpy()

        def torch_runner(model, precision):
            def run():
                with torch.inference_mode(), precision_autocast("cpu", precision):
                    return model(x)

            return run

        for model, _ in torch_models.values():
            model.head.decode_in_inference = True
        runners = {name: torch_runner(*spec) for name, spec in torch_models.items()}
        for name, runtime in runtimes.items():
            runners[name] = lambda r=runtime: r.run(feed)
        step("latency (all paths interleaved)")
        timings = latency_against_baseline(
            runners, torch.device("cpu"), BASELINE, runs=runs, warmup=warmup
        )
    for name, stats in timings.items():
        path = results[name]
        path.median_ms, path.iqr_ms = stats["median_ms"], stats["iqr_ms"]
        path.ratio = stats["ratio_median"]
        path.ratio_q1, path.ratio_q3 = stats["ratio_q1"], stats["ratio_q3"]
    order = list(torch_models) + list(files)
    report.paths = [results[name] for name in order]
    return report

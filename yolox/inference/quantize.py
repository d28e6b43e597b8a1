"""int8 post-training quantization of exported models, checked on the exp's validation AP.

Two quantizers, one per runtime, fed the same calibration images: NNCF for OpenVINO IRs
(:func:`yolox.inference.openvino_export.quantize_openvino`) and ONNX Runtime's static QDQ
quantization for ONNX files (:func:`quantize_onnx`). Calibration images come from the exp's
*training* set, letterboxed exactly as inference does (:func:`yolox.inference.letterbox`); the
fp32 and int8 models are then scored by the exp's own evaluator (:func:`compare_ap`), so the AP
drop is measured on the same data and with the same metric as training, and
:func:`accept_int8` writes the int8 model only when the drop is within the user's threshold.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from loguru import logger

from yolox.utils.atomic_files import atomic_output, publish_files
from yolox.utils.errors import UserError
from yolox.utils.precision import cpu_flags, cpu_model_name

from .export import set_onnx_metadata
from .onnx_predictor import ExportedModel
from .predictor import letterbox

__all__ = [
    "AP_FLOOR",
    "HEAD_OUTPUT_PATTERNS",
    "SpeedComparison",
    "compare_speed",
    "int8_capability_note",
    "ApComparison",
    "accept_int8",
    "calibration_images",
    "cpu_int8_flags",
    "has_int8_dot_product",
    "compare_ap",
    "head_output_nodes",
    "model_files",
    "quantize_onnx",
    "score_exported",
    "ValidationScorer",
    "int8_path_for",
]

PathLike = Union[str, os.PathLike]

#: node-name patterns of the head's final 1x1 prediction convs (names of the ONNX export, which
#: the OpenVINO IR keeps): tiny (a few % of the FLOPs), they carry the box regression and score
#: logits, the outputs most sensitive to rounding; ``--keep-head-fp32`` leaves them in float32.
HEAD_OUTPUT_PATTERNS = (r".*head/(cls|reg|obj)_preds\.\d+/.*",)


def head_output_nodes(names: Iterable[str]) -> List[str]:
    """The names among ``names`` that :data:`HEAD_OUTPUT_PATTERNS` match."""
    patterns = [re.compile(p) for p in HEAD_OUTPUT_PATTERNS]
    return [name for name in names if any(p.fullmatch(name) for p in patterns)]


def calibration_images(exp: Any, count: int, test_size: Sequence[int]) -> List[np.ndarray]:
    """``count`` training images of ``exp`` (evenly spread over the set), letterboxed to
    ``test_size`` as float32 CHW arrays; unreadable images are skipped with a warning."""
    from yolox.data.datasets.errors import DatasetError

    if count < 1:
        raise ValueError(f"the number of calibration images must be >= 1, got {count}")
    dataset = exp.get_dataset()
    if len(dataset) == 0:
        raise ValueError("the exp's training set is empty: no calibration images")
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round())
    images = []
    for index in indices.astype(int):
        try:
            chw, _ = letterbox(dataset.load_image(int(index)), test_size)
        except DatasetError as err:
            logger.warning(f"calibration: skipping {err}")
            continue
        images.append(chw)
    if not images:
        raise ValueError("no readable calibration image in the exp's training set")
    return images


#: CPU flags that matter for int8 kernels (int8 dot products: VNNI, AMX)
INT8_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")

#: AP50:95 points below which the fp32 model detects too little for an AP drop to mean
#: anything (an untrained or barely trained model): the AP check then says it cannot judge
AP_FLOOR = 5.0


def cpu_int8_flags(cpuinfo: PathLike = "/proc/cpuinfo") -> Tuple[str, ...]:
    """Which of :data:`INT8_CPU_FLAGS` this CPU has (empty where /proc/cpuinfo is absent)."""
    flags = set(cpu_flags(cpuinfo))
    return tuple(flag for flag in INT8_CPU_FLAGS if flag in flags)


def int8_capability_note(flags: Optional[Sequence[str]] = None) -> str:
    """What this CPU offers int8 kernels, in words (for the speed warning)."""
    flags = cpu_int8_flags() if flags is None else tuple(flags)
    if "amx_int8" in flags:
        kind = "AMX int8 tiles"
    elif has_int8_dot_product(flags):
        kind = "VNNI int8 dot products, no AMX"
    else:
        kind = "no int8 dot-product instructions (no VNNI, no AMX)"
    return f"{cpu_model_name()}: {kind}; flags {', '.join(flags) or 'none found'}"


def has_int8_dot_product(flags: Sequence[str]) -> bool:
    """VNNI or AMX: int8 products are summed in 32 bits, so signed int8 weights are exact."""
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


def quantize_onnx(
    fp32_path: PathLike,
    int8_path: PathLike,
    calibration: Iterable[np.ndarray],
    keep_head_fp32: bool = False,
    signed_weights: Optional[bool] = None,
) -> str:
    """Write the int8 model of the ONNX export ``fp32_path`` to ``int8_path``; returns the path.

    ONNX Runtime static quantization in QDQ format: per-channel weights, uint8 activations with
    ranges averaged over ``calibration`` (letterboxed float32 CHW images, see
    :func:`calibration_images`; the moving average of per-image min/max, which single outlier
    images do not stretch). ``signed_weights`` (default: True only on CPUs with VNNI/AMX):
    without int8 dot-product instructions ONNX Runtime's uint8 x int8 kernels add pairs of
    products in saturating 16 bits, which cost a BCCD-trained nano 8.6 AP50:95 points here;
    uint8 weights avoid it (0.4 points), at some speed. The graph is first prepared by ONNX
    Runtime's own pre-processing, which its quantizer asks for. The ``yolox.*`` metadata is
    kept, with ``yolox.precision`` set to ``"int8"`` and ``yolox.int8_weights`` to the type.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    batches = [np.ascontiguousarray(a, dtype=np.float32)[None] for a in calibration]
    if not batches:
        raise ValueError("int8 calibration needs at least one image")
    int8_path = os.fspath(int8_path)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        # symbolic shape inference cannot follow the dynamic reshapes of the head: ONNX's own
        # shape inference is enough for the quantizer
        quant_pre_process(os.fspath(fp32_path), prepared, skip_symbolic_shape=True)
        graph = onnx.load(prepared)
        input_name = graph.graph.input[0].name

        class Feeds(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter({input_name: batch} for batch in batches)

            def get_next(self):
                return next(self.items, None)

        excluded = head_output_nodes(n.name for n in graph.graph.node) if keep_head_fp32 else []
        if signed_weights is None:
            signed_weights = has_int8_dot_product(cpu_int8_flags())
        quantize_static(
            prepared,
            os.path.join(tmp, "int8.onnx"),
            Feeds(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8 if signed_weights else QuantType.QUInt8,
            nodes_to_exclude=excluded,
            extra_options={"CalibMovingAverage": True},
        )
        quantized = onnx.load(os.path.join(tmp, "int8.onnx"))
        set_onnx_metadata(
            quantized,
            {
                "yolox.precision": '"int8"',
                "yolox.int8_weights": '"s8"' if signed_weights else '"u8"',
            },
        )
        with atomic_output(int8_path) as temp:
            onnx.save(quantized, temp)
    return int8_path


def score_exported(
    exp: Any, path: PathLike, batch_size: int = 8, backend: Any = None, evaluator: Any = None
) -> tuple:
    """(AP50:95, AP50) in points (0-100) of an exported model on the exp's validation set;
    pass ``evaluator`` to score several models without loading the validation set again."""
    model = ExportedModel(path, backend=backend)
    evaluator = evaluator or exp.get_evaluator(batch_size, False)
    ap50_95, ap50, _ = exp.eval(model, evaluator, False)
    return 100.0 * float(ap50_95), 100.0 * float(ap50)


@dataclass
class ApComparison:
    """AP of the fp32 and int8 models on the same validation set, in points."""

    fp32: tuple
    int8: tuple
    label: str = "int8"  # what the candidate is ("int8", "bf16")

    @property
    def drop(self) -> float:
        """AP50:95 points lost by quantization (negative when int8 scores higher)."""
        return self.fp32[0] - self.int8[0]

    def table(self) -> str:
        return "\n".join(
            [
                "| model | AP50:95 (%) | AP50 (%) |",
                "|---|---:|---:|",
                f"| fp32 | {self.fp32[0]:.2f} | {self.fp32[1]:.2f} |",
                f"| {self.label} | {self.int8[0]:.2f} | {self.int8[1]:.2f} |",
                f"| drop | {self.drop:.2f} | {self.fp32[1] - self.int8[1]:.2f} |",
            ]
        )


def compare_ap(
    exp: Any, fp32_path: PathLike, int8_path: PathLike, batch_size: int = 8, label: str = "int8"
) -> ApComparison:
    """Score both exported models on the exp's validation set (loaded once)."""
    evaluator = exp.get_evaluator(batch_size, False)
    return ApComparison(
        fp32=score_exported(exp, fp32_path, evaluator=evaluator),
        int8=score_exported(exp, int8_path, evaluator=evaluator),
        label=label,
    )


@dataclass
class SpeedComparison:
    """Median milliseconds per batch of the fp32 and the int8 model, timed side by side."""

    fp32_ms: float
    int8_ms: float
    batch: int
    runs: int
    label: str = "int8"

    @property
    def int8_pays(self) -> bool:
        return self.int8_ms < self.fp32_ms

    def table(self) -> str:
        ratio = self.int8_ms / self.fp32_ms
        return "\n".join(
            [
                f"| model | median ms per batch of {self.batch} ({self.runs} runs) | vs fp32 |",
                "|---|---:|---:|",
                f"| fp32 | {self.fp32_ms:.1f} | 1.00 |",
                f"| {self.label} | {self.int8_ms:.1f} | {ratio:.2f} |",
            ]
        )


def compare_speed(
    fp32_path: PathLike,
    int8_path: PathLike,
    batch: np.ndarray,
    runs: int = 10,
    warmup: int = 3,
    threads: Optional[int] = None,
    label: str = "int8",
) -> SpeedComparison:
    """Time both exported models on the same ``batch`` (float32 NCHW), interleaved run by run
    after ``warmup`` runs each (:func:`yolox.utils.timing.interleaved_latency`); medians."""
    import torch

    from yolox.utils.timing import interleaved_latency

    from .runtimes import open_runtime

    feed = np.ascontiguousarray(batch, dtype=np.float32)
    models = {
        "fp32": open_runtime(fp32_path, threads=threads),
        "int8": open_runtime(int8_path, threads=threads),
    }
    runners = {name: (lambda m=model: m.run(feed)) for name, model in models.items()}
    stats = interleaved_latency(runners, torch.device("cpu"), runs=runs, warmup=warmup)
    return SpeedComparison(
        fp32_ms=stats["fp32"]["median_ms"],
        int8_ms=stats["int8"]["median_ms"],
        batch=int(feed.shape[0]),
        runs=runs,
        label=label,
    )


def model_files(path: PathLike) -> List[str]:
    """The files an exported model consists of: ``.xml`` and ``.bin`` for an IR, else itself."""
    path = os.fspath(path)
    stem, suffix = os.path.splitext(path)
    return [path, stem + ".bin"] if suffix.lower() == ".xml" else [path]


def int8_path_for(path: PathLike) -> str:
    """``model.xml`` -> ``model_int8.xml``, ``model.onnx`` -> ``model_int8.onnx``."""
    stem, suffix = os.path.splitext(os.fspath(path))
    return f"{stem}_int8{suffix}"


def accept_int8(
    exp: Any,
    fp32_path: PathLike,
    candidate: PathLike,
    target: PathLike,
    max_ap_drop: float,
    batch_size: int = 8,
    label: str = "int8",
) -> ApComparison:
    """Score ``candidate`` (int8) against ``fp32_path`` on the exp's validation set, print the
    two APs side by side and move the candidate to ``target``; when int8 loses more than
    ``max_ap_drop`` AP50:95 points, raise :class:`UserError` instead and write nothing."""
    comparison = compare_ap(exp, fp32_path, candidate, batch_size, label)
    size = tuple(exp.test_size)
    print(f"AP on the validation set of {exp.exp_name} at {size[0]}x{size[1]}:")
    print(comparison.table())
    if comparison.fp32[0] < AP_FLOOR:
        print(
            f"the AP check cannot judge this model: its fp32 AP50:95 is {comparison.fp32[0]:.2f}, "
            f"below the floor of {AP_FLOOR:g} points where an AP drop means something; "
            "check int8 on a trained model"
        )
    if comparison.drop > max_ap_drop:
        stale = (
            f" (the {os.fspath(target)} already there is from an earlier export)"
            if os.path.exists(target)
            else ""
        )
        advice = (
            "try --keep-head-fp32, more --calib-images, --accuracy-control (OpenVINO), or a "
            "larger --max-ap-drop"
            if label == "int8"
            else "ship the fp32 model, or allow a larger --max-ap-drop"
        )
        raise UserError(
            f"{label} loses {comparison.drop:.2f} AP50:95 points (fp32 {comparison.fp32[0]:.2f}, "
            f"{label} {comparison.int8[0]:.2f}), more than --max-ap-drop {max_ap_drop}: "
            f"{os.fspath(target)} not written{stale}; {advice}"
        )
    publish_files(model_files(candidate), model_files(target))  # a kill keeps the old pair
    return comparison


class _RecordingRuntime:
    """A runtime that keeps every image's raw output (NNCF's accuracy control reads them)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.metadata = runtime.metadata
        self.input_shape = runtime.input_shape
        self.output_width = runtime.output_width
        self.outputs: List[np.ndarray] = []

    def run(self, batch: np.ndarray) -> np.ndarray:
        out = self.runtime.run(batch)
        self.outputs.extend(out[i : i + 1] for i in range(len(out)))
        return out


class ValidationScorer:
    """The exp's validation set as NNCF's accuracy control needs it: letterboxed inputs by index
    (to rank layers by how much their quantization changes the outputs) and the exp's own AP on
    any subset of images, run by any runtime of :mod:`yolox.inference.runtimes`."""

    def __init__(self, exp: Any, batch_size: int = 8) -> None:
        self.exp = exp
        self.evaluator = exp.get_evaluator(batch_size, False)
        self.dataset = self.evaluator.dataloader.dataset
        self.test_size = tuple(int(s) for s in exp.test_size)

    def __len__(self) -> int:
        return len(self.dataset)

    def image(self, index: int) -> np.ndarray:
        """Validation image ``index`` letterboxed as inference does, as a [1, 3, H, W] batch."""
        return letterbox(self.dataset.load_image(int(index)), self.test_size)[0][None]

    def score(self, runtime: Any, indices: Iterable[int]) -> Tuple[float, List[List[np.ndarray]]]:
        """(AP50:95 in points on the images ``indices``, [[raw output] per image]). The
        evaluators score exactly the images their loader yields, so a subset gets its own AP."""
        import torch

        loader = self.evaluator.dataloader
        subset = copy.copy(self.evaluator)
        subset.dataloader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=loader.batch_size,
            sampler=[int(i) for i in indices],
            num_workers=0,
            collate_fn=loader.collate_fn,
        )
        recorder = _RecordingRuntime(runtime)
        ap50_95, _, _ = self.exp.eval(ExportedModel(recorder), subset, False)
        return 100.0 * float(ap50_95), [[out] for out in recorder.outputs]

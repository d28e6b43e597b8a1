"""int8 (and bf16) candidates of an exported model, kept only where they pay on this CPU.

Two quantizers, one per runtime, fed the same calibration images: NNCF for OpenVINO IRs
(:mod:`yolox.deploy.quantize_nncf`) and ONNX Runtime's static QDQ quantization for ONNX files
(:mod:`yolox.deploy.quantize_onnxruntime`). Calibration images come from the exp's *training*
set, letterboxed exactly as inference does (:func:`yolox.inference.letterbox`). A candidate is
then timed against its fp32 model and scored on the exp's validation set by the exp's own
evaluator (:mod:`yolox.deploy.compare`); :func:`keep_if_it_pays` writes it only when it is faster
(or the caller keeps slow ones) and loses at most ``max_ap_drop`` AP50:95 points, and returns a
:class:`CandidateCheck` that says what was measured and decided: the tools turn it into
messages and exit codes.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from loguru import logger

from yolox.inference.predictor import letterbox
from yolox.utils.atomic_files import publish_files
from yolox.utils.precision import cpu_description

from .compare import ApComparison, SpeedComparison, compare_ap, compare_speed
from .runtimes import backend_for_path, openvino_capabilities

__all__ = [
    "AP_FLOOR",
    "HEAD_OUTPUT_PATTERNS",
    "INT8_CPU_FLAGS",
    "CandidateCheck",
    "CheckOptions",
    "calibration_images",
    "capability_note",
    "cpu_int8_flags",
    "has_int8_dot_product",
    "head_output_nodes",
    "int8_capability_note",
    "int8_path_for",
    "keep_if_it_pays",
    "model_files",
    "quantize_checked",
    "variant_path_for",
]

PathLike = Union[str, os.PathLike]

#: node-name patterns of the head's final 1x1 prediction convs (names of the ONNX export, which
#: the OpenVINO IR keeps): tiny (a few % of the FLOPs), they carry the box regression and score
#: logits, the outputs most sensitive to rounding; ``--keep-head-fp32`` leaves them in float32.
HEAD_OUTPUT_PATTERNS = (r".*head/(cls|reg|obj)_preds\.\d+/.*",)

#: CPU flags that matter for int8 kernels (int8 dot products: VNNI, AMX)
INT8_CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")

#: AP50:95 points below which the fp32 model detects too little for an AP drop to mean
#: anything (an untrained or barely trained model): the AP check then says it cannot judge
AP_FLOOR = 5.0


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


# ------------------------------------------------------------------ what the CPU offers


def cpu_int8_flags(flags: Optional[Iterable[str]] = None) -> Tuple[str, ...]:
    """Which of :data:`INT8_CPU_FLAGS` this CPU has (``flags``: the CPU's capability flags,
    default :func:`yolox.utils.precision.cpu_description`'s)."""
    present = set(cpu_description()["cpu_flags"] if flags is None else flags)
    return tuple(flag for flag in INT8_CPU_FLAGS if flag in present)


def has_int8_dot_product(flags: Sequence[str]) -> bool:
    """VNNI or AMX: int8 products are summed in 32 bits, so signed int8 weights are exact."""
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


def int8_capability_note(flags: Optional[Sequence[str]] = None) -> str:
    """What this CPU offers int8 kernels, in words (for the speed verdict)."""
    flags = cpu_int8_flags() if flags is None else tuple(flags)
    if "amx_int8" in flags:
        kind = "AMX int8 tiles"
    elif has_int8_dot_product(flags):
        kind = "VNNI int8 dot products, no AMX"
    else:
        kind = "no int8 dot-product instructions (no VNNI, no AMX)"
    return f"{cpu_description()['cpu']}: {kind}; flags {', '.join(flags) or 'none found'}"


def capability_note(path: PathLike) -> str:
    """What this CPU offers the kernels of the runtime that reads ``path``, in words: for an
    OpenVINO IR what OpenVINO itself reports, else the int8 instructions."""
    if backend_for_path(path) == "openvino":
        reported = ", ".join(openvino_capabilities()) or "nothing"
        return f"{cpu_description()['cpu']}: OpenVINO reports {reported}"
    return int8_capability_note()


# ------------------------------------------------------------------ file names


def model_files(path: PathLike) -> List[str]:
    """The files an exported model consists of: ``.xml`` and ``.bin`` for an IR, else itself."""
    path = os.fspath(path)
    stem, suffix = os.path.splitext(path)
    return [path, stem + ".bin"] if suffix.lower() == ".xml" else [path]


def variant_path_for(path: PathLike, label: str) -> str:
    """``model.xml`` -> ``model_<label>.xml``: where a candidate of ``path`` is written."""
    stem, suffix = os.path.splitext(os.fspath(path))
    return f"{stem}_{label}{suffix}"


def int8_path_for(path: PathLike) -> str:
    """``model.xml`` -> ``model_int8.xml``, ``model.onnx`` -> ``model_int8.onnx``."""
    return variant_path_for(path, "int8")


# ------------------------------------------------------------------ the decision


@dataclass
class CheckOptions:
    """How a candidate is judged: the AP budget, the timing and the evaluation batches."""

    max_ap_drop: float = 1.0  #: AP50:95 points the candidate may lose against fp32
    batch_size: int = 1  #: images per timed run
    speed_runs: int = 10  #: timed runs of each file, after warm-up
    eval_batch_size: int = 8  #: batch size of the AP comparison
    keep_slow: bool = False  #: keep a candidate that is not faster (its AP is still checked)


@dataclass
class CandidateCheck:
    """What :func:`keep_if_it_pays` measured and decided for one candidate."""

    label: str  #: "int8" or "bf16"
    fp32_path: str
    target: str  #: where the candidate is (or would have been) written
    options: CheckOptions
    speed: SpeedComparison
    #: AP of both on the validation set; None when the candidate was refused for its speed
    ap: Optional[ApComparison] = None
    #: what the CPU offers the candidate's kernels (:func:`capability_note`), when not faster
    capability: str = ""
    written: bool = False

    @property
    def faster(self) -> bool:
        return self.speed.int8_pays

    @property
    def within_ap_budget(self) -> bool:
        return self.ap is not None and self.ap.drop <= self.options.max_ap_drop

    @property
    def ap_can_judge(self) -> bool:
        """False when fp32 scores below :data:`AP_FLOOR`: an AP drop then means nothing."""
        return self.ap is not None and self.ap.fp32[0] >= AP_FLOOR


def keep_if_it_pays(
    exp: Any,
    fp32_path: PathLike,
    target: PathLike,
    make_candidate: Callable[[str], Any],
    images: Sequence[np.ndarray],
    options: CheckOptions,
    label: str = "int8",
) -> CandidateCheck:
    """Write the candidate that ``make_candidate(path)`` makes to ``target`` only where it pays.

    Both files are timed side by side on a batch of ``options.batch_size`` of ``images``; a
    candidate that is not faster is refused unless ``options.keep_slow``; then both are scored
    on the exp's validation set and the candidate is written (atomically, with its ``.bin``)
    only when it loses at most ``options.max_ap_drop`` AP50:95 points. A refused candidate
    writes nothing and leaves an earlier ``target`` alone.
    """
    fp32_path, target = os.fspath(fp32_path), os.fspath(target)
    batch = np.stack([images[i % len(images)] for i in range(options.batch_size)])
    with tempfile.TemporaryDirectory() as tmp:
        candidate = os.path.join(tmp, os.path.basename(target))
        make_candidate(candidate)
        speed = compare_speed(fp32_path, candidate, batch, runs=options.speed_runs, label=label)
        check = CandidateCheck(label, fp32_path, target, options, speed)
        if not check.faster:
            check.capability = capability_note(fp32_path)
            if not options.keep_slow:
                return check
        check.ap = compare_ap(exp, fp32_path, candidate, options.eval_batch_size, label)
        if check.within_ap_budget:
            publish_files(model_files(candidate), model_files(target))  # a kill keeps the old
            check.written = True
    return check


def quantize_checked(
    exp: Any,
    fp32_path: PathLike,
    test_size: Tuple[int, int],
    quantize: Callable[[List[np.ndarray], str], Any],
    calib_images: int,
    options: CheckOptions,
) -> CandidateCheck:
    """The int8 model of ``fp32_path`` beside it (``name_int8.ext``), calibrated on
    ``calib_images`` training images of ``exp`` at ``test_size`` (``quantize(images, path)``
    writes it) and kept only where it pays (:func:`keep_if_it_pays`)."""
    exp.test_size = test_size
    images = calibration_images(exp, calib_images, test_size)
    logger.info(
        f"calibrating int8 on {len(images)} training images at {test_size[0]}x{test_size[1]}"
    )
    return keep_if_it_pays(
        exp,
        fp32_path,
        int8_path_for(fp32_path),
        lambda path: quantize(images, path),
        images,
        options,
        "int8",
    )

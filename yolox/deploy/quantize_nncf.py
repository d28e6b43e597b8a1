"""int8 quantization of an OpenVINO IR with NNCF, optionally under NNCF's accuracy control.

NNCF's post-training quantization: per-channel int8 weights, int8 activations with ranges
measured on calibration images letterboxed exactly as inference does
(:func:`yolox.deploy.int8.calibration_images`). The detection head's final 1x1 prediction convs
can stay in float32 (``keep_head_fp32``, see :data:`yolox.deploy.int8.HEAD_OUTPUT_PATTERNS`).
With ``accuracy`` (a :class:`ValidationScorer`) NNCF's accuracy control quantizes, scores the
exp's validation AP and puts the operations that cost most AP back into float32 one group at a
time until the drop is within ``max_ap_drop`` points.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, List, Optional, Tuple

import numpy as np

from yolox.inference.predictor import letterbox

from .exported import ExportedModel
from .int8 import HEAD_OUTPUT_PATTERNS
from .runtimes import CompiledOpenVino, read_openvino_metadata

__all__ = ["ValidationScorer", "quantize_openvino"]


def quantize_openvino(
    ov_model: Any,
    calibration: Iterable[np.ndarray],
    keep_head_fp32: bool = False,
    fast_bias_correction: Optional[bool] = True,
    accuracy: Optional[ValidationScorer] = None,
    max_ap_drop: float = 1.0,
) -> Any:
    """The int8 model of ``ov_model`` (from :func:`yolox.deploy.openvino_export.export_openvino`) calibrated on ``calibration``.

    ``fast_bias_correction``: True (NNCF's fast variant), False (the slower full one) or None
    (no bias correction: quicker, for tests). ``calibration``: letterboxed float32 CHW images (see
    :func:`yolox.deploy.int8.calibration_images`). ``accuracy``: quantize with NNCF's
    accuracy control against the exp's validation AP (``max_ap_drop`` AP50:95 points, absolute).
    The metadata is carried over with ``yolox.precision`` set to ``"int8"``.

    Accuracy control runs best in a process of its own, as ``tools/export_openvino.py`` does:
    in a long-lived test process that went on to start subprocesses, one of them crashed
    afterwards (SIGSEGV in the vDSO's clock_gettime; nncf 3.4, openvino 2026.4).
    """
    try:
        import nncf
    except ImportError as exc:
        raise ImportError('int8 quantization needs nncf: pip install -e ".[deploy]"') from exc
    images = [np.ascontiguousarray(a, dtype=np.float32) for a in calibration]
    if not images:
        raise ValueError("int8 calibration needs at least one image")
    options: dict = {
        "subset_size": len(images),
        "preset": nncf.QuantizationPreset.MIXED,
        "fast_bias_correction": bool(fast_bias_correction),
    }
    # NNCF reads fast_bias_correction=None as False (the slow full correction)
    advanced = nncf.AdvancedQuantizationParameters(
        disable_bias_correction=fast_bias_correction is None
    )
    if keep_head_fp32:
        options["ignored_scope"] = nncf.IgnoredScope(
            patterns=list(HEAD_OUTPUT_PATTERNS), validate=False
        )
    calibration_set = nncf.Dataset(images, lambda chw: chw[None])
    if accuracy is None:
        quantized = nncf.quantize(
            ov_model, calibration_set, advanced_parameters=advanced, **options
        )
    else:
        metadata = read_openvino_metadata(ov_model)

        def validate(compiled: Any, indices: Iterable[int]) -> tuple:
            # the per-image raw outputs returned with the AP make NNCF rank operations by how
            # much int8 changes the outputs, and score AP on the whole validation set only
            return accuracy.score(CompiledOpenVino(compiled, metadata), indices)

        quantized = nncf.quantize_with_accuracy_control(
            ov_model,
            calibration_set,
            nncf.Dataset(list(range(len(accuracy))), accuracy.image),
            validate,
            max_drop=float(max_ap_drop),
            drop_type=nncf.DropType.ABSOLUTE,
            advanced_quantization_parameters=advanced,
            **options,
        )
    quantized.set_rt_info('"int8"', ["yolox", "precision"])
    return quantized


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
    any subset of images, run by any runtime of :mod:`yolox.deploy.runtimes`."""

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

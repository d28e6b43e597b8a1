"""The inference pass shared by the COCO and VOC evaluators.

Runs the model over an evaluation loader, applies ``postprocess`` (score filter + NMS), and maps
every box back to the original image (``yolox.utils.detections``): the loader letterboxes with
``r = letterbox_ratio(...)`` at the top-left corner, so dividing by ``r`` undoes it.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from yolox.data.datasets.detection_base import is_unreadable_target
from yolox.utils.boxes import letterbox_ratio, postprocess
from yolox.utils.detections import Detections, detections_from_postprocess
from yolox.utils.device import model_device
from yolox.utils.dist import gather, is_main_process, time_synchronized

__all__ = ["InferenceTiming", "gather_detections", "run_inference"]


@dataclass
class InferenceTiming:
    """Accumulated seconds of forward and post-processing passes, and images seen."""

    forward_s: float = 0.0
    nms_s: float = 0.0
    num_images: int = 0
    num_batches: int = 0

    def summary(self) -> str:
        """One line of per-image milliseconds (for the evaluation log)."""
        n = max(self.num_images, 1)
        fwd, nms = 1000.0 * self.forward_s / n, 1000.0 * self.nms_s / n
        return (
            f"Average forward time: {fwd:.2f} ms, Average NMS time: {nms:.2f} ms, "
            f"Average inference time: {fwd + nms:.2f} ms ({self.num_images} images)"
        )


def _to_list(values: Any) -> List[Any]:
    if isinstance(values, torch.Tensor):
        return values.reshape(-1).tolist()
    if isinstance(values, np.ndarray):
        return values.reshape(-1).tolist()
    return list(values)


def _image_sizes(img_info: Any, batch_size: int) -> Tuple[List[float], List[float]]:
    """(heights, widths) of a batch from the loader's ``img_info``.

    Accepts the default-collate layout ``(heights [B], widths [B])`` and the per-image layout
    ``[(h, w), ...]`` that a list-keeping collate produces (tuples of numbers per image).
    """
    if (
        isinstance(img_info, (list, tuple))
        and len(img_info) == batch_size
        and all(isinstance(p, tuple) and len(p) == 2 for p in img_info)
        and all(
            not isinstance(v, (torch.Tensor, np.ndarray, list, tuple)) for p in img_info for v in p
        )
    ):
        return [float(p[0]) for p in img_info], [float(p[1]) for p in img_info]
    if isinstance(img_info, (list, tuple)) and len(img_info) == 2:
        heights, widths = _to_list(img_info[0]), _to_list(img_info[1])
        if len(heights) == batch_size and len(widths) == batch_size:
            return [float(h) for h in heights], [float(w) for w in widths]
    raise ValueError(
        f"img_info must be (heights, widths) with {batch_size} entries each, got {img_info!r}"
    )


def _readable_flags(targets: Any, batch_size: int) -> List[bool]:
    """False for the items whose target is the dataset's unreadable-image marker (a blank)."""
    if isinstance(targets, (torch.Tensor, np.ndarray)) and len(targets) == batch_size:
        return [not is_unreadable_target(t) for t in targets]
    return [True] * batch_size


@contextlib.contextmanager
def _eval_model(model: nn.Module, half: bool) -> Iterator[nn.Module]:
    """The model to run the pass with: ``model`` itself in eval mode, or, for ``half``, an fp16
    copy of it, so the caller's weights stay bit-identical (``half()`` then ``float()`` in place
    would round every weight to fp16 for the rest of the run). The caller's mode comes back after.
    """
    was_training = model.training
    model.eval()
    try:
        yield copy.deepcopy(model).half() if half else model
    finally:
        model.train(was_training)


def run_inference(
    model: nn.Module,
    dataloader: Iterable,
    num_classes: int,
    confthre: float,
    nmsthre: float,
    img_size: Sequence[int],
    half: bool = False,
    decoder: Optional[Callable[..., torch.Tensor]] = None,
    test_size: Optional[Sequence[int]] = None,
    desc: str = "eval",
) -> Tuple[List[Detections], InferenceTiming]:
    """Detections of every image the loader yields (on this rank), in original-image pixels.

    ``img_size`` (or ``test_size`` if given) is the (H, W) the loader letterboxed to. Inference runs
    on the model's own device under ``torch.inference_mode``; ``half`` runs an fp16 copy, so the
    model's weights are untouched, and its train/eval mode is restored afterwards.
    """
    size = tuple(int(s) for s in (test_size if test_size is not None else img_size))
    device = model_device(model)
    timing = InferenceTiming()
    results: List[Detections] = []
    warned_shape = False
    iterator = dataloader
    if is_main_process():
        total = len(dataloader) if hasattr(dataloader, "__len__") else None
        iterator = tqdm(dataloader, total=total, desc=desc, leave=False)
    with _eval_model(model, half) as run_model, torch.inference_mode():
        for batch in iterator:
            imgs, targets, img_info, ids = batch[:4]
            imgs = torch.as_tensor(imgs).to(
                device=device, dtype=torch.float16 if half else torch.float32
            )
            if not warned_shape and tuple(imgs.shape[-2:]) != size:
                warnings.warn(
                    f"loader images are {tuple(imgs.shape[-2:])} but the evaluator rescales boxes "
                    f"for {size}; pass the loader's size as img_size/test_size",
                    stacklevel=2,
                )
                warned_shape = True
            start = time_synchronized(device)
            outputs = run_model(imgs)
            if decoder is not None:
                outputs = decoder(outputs, dtype=outputs.type())
            mid = time_synchronized(device)
            detections = postprocess(outputs.float(), num_classes, confthre, nmsthre)
            end = time_synchronized(device)
            timing.forward_s += mid - start
            timing.nms_s += end - mid
            timing.num_images += imgs.shape[0]
            timing.num_batches += 1

            heights, widths = _image_sizes(img_info, imgs.shape[0])
            id_list = _to_list(ids)
            if len(id_list) != imgs.shape[0]:
                raise ValueError(
                    f"loader gave {len(id_list)} ids for a batch of {imgs.shape[0]} images"
                )
            readable = _readable_flags(targets, imgs.shape[0])
            for det, h, w, image_id, ok in zip(detections, heights, widths, id_list, readable):
                rows = None if det is None else det.detach().to("cpu", torch.float64).numpy()
                result = detections_from_postprocess(
                    rows, letterbox_ratio(size, h, w), (h, w), clip=False, image_id=image_id
                )
                result.readable = ok
                results.append(result)
    return results, timing


def gather_detections(
    results: List[Detections], timing: InferenceTiming
) -> Tuple[List[Detections], InferenceTiming]:
    """All ranks' detections (rank order) and summed timings on rank 0; other ranks get theirs back."""
    gathered = gather((results, timing), dst=0)
    if not is_main_process():
        return results, timing
    merged = [r for rank_results, _ in gathered for r in rank_results]
    total = InferenceTiming(
        forward_s=sum(t.forward_s for _, t in gathered),
        nms_s=sum(t.nms_s for _, t in gathered),
        num_images=sum(t.num_images for _, t in gathered),
        num_batches=sum(t.num_batches for _, t in gathered),
    )
    return merged, total

"""One detections type: the evaluators and the Predictor map rows back to pixels the same way."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from yolox.evaluators import run_inference
from yolox.inference import Predictor, letterbox
from yolox.utils import Detections, detections_from_postprocess, letterbox_ratio, model_device


def test_letterbox_ratio_is_the_tighter_side():
    assert letterbox_ratio((640, 640), 480, 640) == pytest.approx(1.0)
    assert letterbox_ratio((640, 640), 1280, 320) == pytest.approx(0.5)
    assert letterbox_ratio((320, 640), 100, 100) == pytest.approx(3.2)


def test_model_device_of_parameters_buffers_and_nothing():
    assert model_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert model_device(nn.BatchNorm2d(2, affine=False)) == torch.device("cpu")
    assert model_device(nn.ReLU()) == torch.device("cpu")


def slow_rows_to_pixels(rows, ratio, height, width, clip):
    """Row by row, the obvious way: undo the top-left letterbox, optionally clip."""
    out = []
    for x1, y1, x2, y2, obj, cls_conf, cid in rows:
        box = [x1 / ratio, y1 / ratio, x2 / ratio, y2 / ratio]
        if clip:
            box = [min(max(box[0], 0), width), min(max(box[1], 0), height)] + [
                min(max(box[2], 0), width),
                min(max(box[3], 0), height),
            ]
        out.append((box, obj * cls_conf, int(cid)))
    return out


@pytest.mark.parametrize("clip", [True, False])
def test_conversion_matches_slow_reference(clip):
    rows = np.array(
        [
            [10.0, 20.0, 50.0, 70.0, 0.9, 0.8, 1],
            [-5.0, 3.0, 700.0, 30.0, 0.5, 0.5, 0],  # sticks out of the image
        ]
    )
    det = detections_from_postprocess(rows, 0.5, (120, 300), ["a", "b"], clip=clip, image_id=42)
    ref = slow_rows_to_pixels(rows, 0.5, 120, 300, clip)
    np.testing.assert_allclose(det.boxes, [b for b, _, _ in ref], rtol=1e-6)
    np.testing.assert_allclose(det.scores, [s for _, s, _ in ref], rtol=1e-6)
    assert det.class_ids.tolist() == [c for _, _, c in ref]
    assert det.class_names == ["b", "a"]
    assert det.image_id == 42 and det.image_size == (120, 300)


def test_no_rows_is_an_empty_detections():
    det = detections_from_postprocess(None, 1.0, (10, 20), image_id="x")
    assert len(det) == 0 and det.boxes.shape == (0, 4) and det.image_id == "x"


class FixedOutputs(nn.Module):
    """Decoded outputs (cx, cy, w, h, obj, cls...) fixed in network-input pixels."""

    def __init__(self, rows):
        super().__init__()
        self.rows = nn.Parameter(torch.as_tensor(rows, dtype=torch.float32), requires_grad=False)
        self.head = nn.Module()
        self.head.num_classes = self.rows.shape[-1] - 5
        self.head.decode_in_inference = True

    def forward(self, x):
        return self.rows.expand(x.shape[0], -1, -1).clone()


def test_evaluator_and_predictor_give_the_same_boxes():
    image = np.random.default_rng(0).integers(0, 255, (90, 200, 3), dtype=np.uint8)
    size = (64, 96)
    outputs = [[30.0, 20.0, 16.0, 10.0, 0.9, 0.1, 0.8], [60.0, 30.0, 20.0, 8.0, 0.7, 0.9, 0.2]]
    model = FixedOutputs(outputs)
    chw, _ = letterbox(image, size)
    loader = [(torch.from_numpy(chw)[None], None, ([90], [200]), [5])]
    evaluated, _ = run_inference(model, loader, 2, 0.01, 0.65, size)
    predicted = Predictor(model, test_size=size, conf=0.01, nms=0.65, device="cpu").predict(image)
    assert isinstance(evaluated[0], Detections) and evaluated[0].image_id == 5
    assert len(predicted) == 2
    np.testing.assert_allclose(evaluated[0].boxes, predicted.boxes, rtol=1e-6)
    np.testing.assert_allclose(evaluated[0].scores, predicted.scores, rtol=1e-6)
    np.testing.assert_array_equal(evaluated[0].class_ids, predicted.class_ids)
    # ratio = min(64 / 90, 96 / 200) = 0.48: the width is the tight side
    np.testing.assert_allclose(predicted.boxes[0], np.array([22, 15, 38, 25]) * 200 / 96, rtol=1e-5)

"""Predictor geometry (letterbox and the way back to original pixels), API and drawing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from yolox.inference import Detections, Predictor, draw_detections, letterbox
from yolox.testing.fixtures import (
    CLASS_NAMES,
    assert_same_detections,
    make_model,
    save_model_checkpoint,
    write_image,
)


def slow_letterbox(image, size):
    """Obvious reference: scale by min ratio, paste at the top-left of a 114 canvas, CHW float."""
    h, w = image.shape[:2]
    r = min(size[0] / h, size[1] / w)
    resized = cv2.resize(image, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size[0], size[1], 3), 114, np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return canvas.transpose(2, 0, 1).astype(np.float32), r


@pytest.mark.parametrize("shape", [(60, 100), (100, 60), (128, 128), (200, 90)])
def test_letterbox_matches_reference(shape):
    image = np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)
    ours, r = letterbox(image, (96, 128))
    ref, r_ref = slow_letterbox(image, (96, 128))
    assert r == pytest.approx(r_ref)
    np.testing.assert_array_equal(ours, ref)


class FixedHead(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.decode_in_inference = True


class FixedModel(nn.Module):
    """Returns given decoded outputs (cx, cy, w, h, obj, cls...) in network-input pixels."""

    def __init__(self, rows):
        super().__init__()
        self.rows = torch.as_tensor(rows, dtype=torch.float32)
        self.head = FixedHead(self.rows.shape[-1] - 5)
        self.seen = None

    def forward(self, x):
        self.seen = x.clone()
        return self.rows.expand(x.shape[0], -1, -1).clone()


def test_boxes_come_back_in_original_pixels():
    # image 50 x 200 into 128 x 128: r = min(128/50, 128/200) = 0.64
    rows = [
        [40.0, 10.0, 20.0, 10.0, 0.9, 0.1, 0.8],  # class 1, score 0.72
        [100.0, 20.0, 40.0, 8.0, 0.5, 0.6, 0.1],  # class 0, score 0.30
        [5.0, 5.0, 20.0, 20.0, 0.1, 0.5, 0.5],  # below conf
    ]
    model = FixedModel(rows)
    predictor = Predictor(model, ["a", "b"], test_size=(128, 128), conf=0.2, nms=0.5, device="cpu")
    image = np.zeros((50, 200, 3), np.uint8)
    det = predictor.predict(image)
    r = 0.64
    expected = np.array([[30, 5, 50, 15], [80, 16, 120, 24]], np.float32) / r
    expected[:, 1::2] = expected[:, 1::2].clip(0, 50)
    np.testing.assert_allclose(det.boxes, expected, rtol=1e-5)
    np.testing.assert_allclose(det.scores, [0.72, 0.30], rtol=1e-5)
    assert det.class_ids.tolist() == [1, 0] and det.class_names == ["b", "a"]
    assert det.image_size == (50, 200)
    # the network saw the letterboxed image: padding 114 right of x = 200 * 0.64 = 128? no: below y = 32
    assert torch.all(model.seen[0, :, 32:, :] == 114) and torch.all(model.seen[0, :, :32, :] == 0)


def test_from_checkpoint_matches_manual_pipeline(tmp_path):
    model, cfg = make_model("se")
    ckpt = save_model_checkpoint(tmp_path / "se.pth", model, cfg)
    image = cv2.imread(str(write_image(tmp_path / "img.png", 80, 120)))
    predictor = Predictor.from_checkpoint(
        ckpt, device="cpu", test_size=(128, 128), conf=1e-9, nms=0.5, clip_boxes=False
    )
    assert predictor.class_names == CLASS_NAMES
    det = predictor.predict(image)
    assert len(det) > 0 and set(det.class_names) <= set(CLASS_NAMES)

    from yolox.utils.boxes import postprocess

    chw, r = letterbox(image, (128, 128))
    with torch.no_grad():
        out = postprocess(model(torch.from_numpy(chw)[None]), 3, 1e-9, 0.5)[0].numpy()
    assert_same_detections(det.boxes, det.scores, out[:, :4] / r, out[:, 4] * out[:, 5])
    assert np.all(np.diff(det.scores) <= 0)
    # a file path works as well, and batches agree with single images
    det_path = predictor.predict(str(tmp_path / "img.png"))
    np.testing.assert_allclose(det_path.boxes, det.boxes)
    batch = predictor.predict_batch([image, image[:40]])
    assert_same_detections(batch[0].boxes, batch[0].scores, det.boxes, det.scores)


def test_draw_detections_marks_only_the_boxes():
    image = np.full((60, 80, 3), 50, np.uint8)
    det = Detections(
        np.array([[10, 20, 40, 50]], np.float32),
        np.array([0.9], np.float32),
        np.array([2]),
        ["bird"],
        (60, 80),
    )
    drawn = draw_detections(image, det)
    assert np.all(image == 50)  # input untouched
    assert np.any(drawn[50, 10:41] != 50)  # bottom edge drawn
    assert np.all(drawn[55:, :] == 50) and np.all(drawn[:, :8] == 50)  # nothing below or left of it
    assert det.to_list() == [
        {
            "box": [10.0, 20.0, 40.0, 50.0],
            "score": pytest.approx(0.9),
            "class_id": 2,
            "class_name": "bird",
        }
    ]
    assert len(det.filter(0.95)) == 0


def test_fused_predictor_gives_the_same_detections(tmp_path):
    model, cfg = make_model("cbam")
    ckpt = save_model_checkpoint(tmp_path / "cbam.pth", model, cfg)
    image = cv2.imread(str(write_image(tmp_path / "img.png", 70, 110)))
    kwargs = dict(device="cpu", test_size=(96, 128), conf=1e-4, nms=0.5)
    plain = Predictor.from_checkpoint(ckpt, **kwargs).predict(image)
    fused = Predictor.from_checkpoint(ckpt, fuse=True, **kwargs).predict(image)
    assert len(plain) > 0
    assert_same_detections(fused.boxes, fused.scores, plain.boxes, plain.scores, atol=1e-2)


def test_predict_path_uses_the_training_reader(tmp_path):
    """A 12-bit PNG at a non-ASCII path predicts like the 8-bit image it was made from."""
    from yolox.data.datasets.errors import TruncatedImageError
    from yolox.inference import read_image

    model, cfg = make_model("se")
    ckpt = save_model_checkpoint(tmp_path / "se.pth", model, cfg)
    image = cv2.imread(str(write_image(tmp_path / "img.png", 80, 120)))
    assert image.max() >= 128  # so the 12-bit copy uses its full range
    twelve_bit = np.round(image.astype(np.float64) * 4095 / 255).astype(np.uint16)
    path = tmp_path / "bild_äöü_图像.png"
    ok, encoded = cv2.imencode(".png", twelve_bit)
    assert ok
    path.write_bytes(encoded.tobytes())

    np.testing.assert_array_equal(read_image(path), image)  # 4095 -> 255, not 16-bit >> 8
    predictor = Predictor.from_checkpoint(
        ckpt, device="cpu", test_size=(128, 128), conf=1e-9, nms=0.5
    )
    from_array, from_path = predictor.predict(image), predictor.predict(path)
    assert len(from_array) > 0
    assert_same_detections(from_path.boxes, from_path.scores, from_array.boxes, from_array.scores)

    truncated = tmp_path / "cut.jpg"
    ok, jpeg = cv2.imencode(".jpg", image)
    truncated.write_bytes(jpeg.tobytes()[: len(jpeg) // 2])
    with pytest.raises(TruncatedImageError, match="cut.jpg"):
        predictor.predict(truncated)

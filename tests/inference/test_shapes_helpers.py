"""The helpers behind the int8 agreement tests: flipped training batches, detection agreement."""

from __future__ import annotations

import numpy as np
import torch

from yolox.testing.agreement import detection_agreement
from yolox.testing.shapes_training import ShapesBatches


def test_flipped_batches_keep_each_box_on_its_object():
    images = torch.zeros(4, 3, 32, 48)
    targets = torch.zeros(4, 2, 5)
    for i in range(4):  # one bright 6 x 8 block per image, its box (cls, cx, cy, w, h)
        x1, y1 = 2 + 5 * i, 3 + 4 * i
        images[i, :, y1 : y1 + 6, x1 : x1 + 8] = 255
        targets[i, 0] = torch.tensor([i % 3, x1 + 4, y1 + 3, 8, 6])
    batches = ShapesBatches(images, targets).stream(seed=0, batch_size=4)
    centres = []
    for _ in range(5):
        batch_images, batch_targets = next(batches)
        for image, target in zip(batch_images, batch_targets):
            ys, xs = np.nonzero(image[0].numpy())
            cls, cx, cy, w, h = target[0].tolist()
            assert (cx, cy, w, h) == (
                (xs.min() + xs.max() + 1) / 2,
                (ys.min() + ys.max() + 1) / 2,
                8,
                6,
            )
            assert not target[1].any()  # padding rows stay empty
            centres.append(cx)
    # originals sit left of the middle (cx <= 21), flipped ones right of it (cx >= 27)
    assert min(centres) < 24 < max(centres)
    # the same seed gives the same stream
    first = next(ShapesBatches(images, targets).stream(seed=3, batch_size=4))
    again = next(ShapesBatches(images, targets).stream(seed=3, batch_size=4))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])


def _outputs(boxes, obj, cls_scores):
    """Decoded outputs [1, N, 5 + C] from cx, cy, w, h rows, objectness and class scores."""
    rows = np.concatenate([np.array(boxes, float), np.array(obj, float)[:, None], cls_scores], 1)
    return rows[None].astype(np.float32)


def test_detection_agreement_matches_same_class_twins():
    cls = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05]])
    reference = _outputs([[20, 20, 10, 10], [60, 60, 20, 20]], [1.0, 0.8], cls)
    # the first box moved by 5 px (IoU 1/3), the second unchanged but with a lower score
    candidate = _outputs([[25, 20, 10, 10], [60, 60, 20, 20]], [1.0, 0.5], cls)
    agreement = detection_agreement(reference, candidate, num_classes=3)
    np.testing.assert_allclose(sorted(agreement.ious), [50 / 150, 1.0], rtol=1e-5)
    np.testing.assert_allclose(sorted(agreement.score_diffs), [0.0, 0.72 - 0.45], atol=1e-5)
    assert agreement.matched(0.5) == 0.5
    assert (agreement.reference_count, agreement.candidate_count) == (2, 2)
    # a twin of another class does not count
    swapped = _outputs([[20, 20, 10, 10], [60, 60, 20, 20]], [1.0, 0.8], cls[::-1].copy())
    assert detection_agreement(reference, swapped, num_classes=3).matched(0.5) == 0.0

"""Head behaviour that the golden fixture does not pin: other class counts, empty images, decoding."""

from __future__ import annotations

import torch

from yolox.models import build_model, zoo_config
from yolox.models.simota import simota_assign


def _tiny_model(num_classes: int = 3):
    torch.manual_seed(0)
    return build_model(zoo_config("yolox-nano", num_classes=num_classes))


def test_eval_output_shape_and_decoding_for_other_class_counts():
    model = _tiny_model(5).eval()
    x = torch.rand(2, 3, 96, 128) * 255
    with torch.no_grad():
        out = model(x)
        model.head.decode_in_inference = False
        raw = model(x)
    cells = (96 // 8) * (128 // 8) + (96 // 16) * (128 // 16) + (96 // 32) * (128 // 32)
    assert out.shape == (2, cells, 10)
    # first cell of level 0 (grid 0,0 stride 8): cx = (raw_x + 0) * 8, w = exp(raw_w) * 8
    torch.testing.assert_close(out[:, 0, 0], raw[:, 0, 0] * 8)
    torch.testing.assert_close(out[:, 0, 2], raw[:, 0, 2].exp() * 8)
    # last cell of the last level: grid (x=3, y=2) at stride 32
    torch.testing.assert_close(out[:, -1, 0], (raw[:, -1, 0] + 3) * 32)
    torch.testing.assert_close(out[:, -1, 1], (raw[:, -1, 1] + 2) * 32)
    assert torch.all((out[..., 4:] >= 0) & (out[..., 4:] <= 1))


def test_training_with_an_image_without_labels():
    model = _tiny_model(3).train()
    x = torch.rand(2, 3, 64, 64) * 255
    targets = torch.zeros(2, 10, 5)
    targets[0, 0] = torch.tensor([1, 30, 30, 20, 16])
    losses = model(x, targets)
    assert torch.isfinite(losses["total_loss"])
    assert losses["num_fg"] > 0
    losses["total_loss"].backward()
    empty = model(x, torch.zeros(2, 10, 5))
    assert float(empty["iou_loss"]) == 0.0 and float(empty["cls_loss"]) == 0.0
    assert float(empty["conf_loss"]) > 0.0


def test_simota_ignores_ground_truth_far_outside_the_grid():
    centers = torch.tensor([[4.0, 4.0], [12.0, 4.0]])
    strides = torch.tensor([8.0, 8.0])
    result = simota_assign(
        torch.tensor([[500.0, 500.0, 10.0, 10.0]]),
        torch.tensor([0.0]),
        torch.tensor([[4.0, 4.0, 8.0, 8.0], [12.0, 4.0, 8.0, 8.0]]),
        torch.zeros(2, 2),
        torch.zeros(2, 1),
        centers,
        strides,
    )
    assert result.num_fg == 0 and not result.fg_mask.any()


def _slow_simota(gt, gt_cls, preds, cls_logits, obj_logits, centers, strides):
    """Loop-by-loop transcription of the v0.3.0 rules in the fixture README."""
    num_gt, num_anchors = gt.shape[0], preds.shape[0]
    in_region = torch.zeros(num_gt, num_anchors, dtype=torch.bool)
    for g in range(num_gt):
        for a in range(num_anchors):
            r = 1.5 * strides[a]
            in_region[g, a] = bool(
                abs(centers[a, 0] - gt[g, 0]) < r and abs(centers[a, 1] - gt[g, 1]) < r
            )
    cand = in_region.any(0).nonzero().flatten().tolist()
    cost = torch.zeros(num_gt, len(cand))
    ious = torch.zeros(num_gt, len(cand))
    for g in range(num_gt):
        gx1, gy1 = gt[g, 0] - gt[g, 2] / 2, gt[g, 1] - gt[g, 3] / 2
        gx2, gy2 = gt[g, 0] + gt[g, 2] / 2, gt[g, 1] + gt[g, 3] / 2
        for j, a in enumerate(cand):
            p = preds[a]
            px1, py1, px2, py2 = p[0] - p[2] / 2, p[1] - p[3] / 2, p[0] + p[2] / 2, p[1] + p[3] / 2
            iw = max(0.0, float(min(gx2, px2) - max(gx1, px1)))
            ih = max(0.0, float(min(gy2, py2) - max(gy1, py1)))
            inter = iw * ih
            iou = inter / (float(gt[g, 2] * gt[g, 3] + p[2] * p[3]) - inter)
            ious[g, j] = iou
            s = (cls_logits[a].sigmoid() * obj_logits[a].sigmoid()).sqrt()
            onehot = torch.zeros_like(s)
            onehot[int(gt_cls[g])] = 1
            bce = -(onehot * torch.log(s) + (1 - onehot) * torch.log(1 - s)).sum()
            cost[g, j] = (
                bce + 3 * -torch.log(torch.tensor(iou) + 1e-8) + (0 if in_region[g, a] else 1e6)
            )
    matching = torch.zeros_like(cost)
    for g in range(num_gt):
        k = max(1, int(torch.sort(ious[g], descending=True).values[: min(10, len(cand))].sum()))
        for j in torch.sort(cost[g]).indices[:k].tolist():
            matching[g, j] = 1
    for j in range(len(cand)):
        if matching[:, j].sum() > 1:
            best = int(torch.argmin(cost[:, j]))
            matching[:, j] = 0
            matching[best, j] = 1
    fg = {
        cand[j]: int(matching[:, j].argmax()) for j in range(len(cand)) if matching[:, j].sum() > 0
    }
    return fg


def test_simota_matches_a_slow_transcription_of_the_rules():
    gen = torch.Generator().manual_seed(3)
    stride = 8.0
    ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    centers = torch.stack([(xs.flatten() + 0.5) * stride, (ys.flatten() + 0.5) * stride], 1)
    strides = torch.full((64,), stride)
    preds = torch.cat(
        [
            centers + torch.randn(64, 2, generator=gen) * 3,
            torch.rand(64, 2, generator=gen) * 20 + 5,
        ],
        1,
    )
    cls_logits = torch.randn(64, 4, generator=gen)
    obj_logits = torch.randn(64, 1, generator=gen)
    gt = torch.tensor(
        [[20.0, 20.0, 18.0, 14.0], [24.0, 22.0, 12.0, 20.0], [50.0, 40.0, 16.0, 16.0]]
    )
    gt_cls = torch.tensor([0.0, 2.0, 3.0])
    fast = simota_assign(gt, gt_cls, preds, cls_logits, obj_logits, centers, strides)
    slow = _slow_simota(gt, gt_cls, preds, cls_logits, obj_logits, centers, strides)
    fg_anchors = fast.fg_mask.nonzero().flatten().tolist()
    assert fg_anchors == sorted(slow)
    assert fast.matched_gt_inds.tolist() == [slow[a] for a in fg_anchors]

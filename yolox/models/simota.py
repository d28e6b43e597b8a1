"""SimOTA label assignment (YOLOX v0.3.0 semantics), for one image at a time.

The fixture README in the project's shared folder spells the rules out; in short: candidate
anchors lie within 1.5 strides of a ground-truth centre, cost = classification BCE +
3 * IoU cost + 1e6 outside the centre region, each ground truth takes its dynamic-k cheapest
anchors, and an anchor claimed twice keeps its cheapest ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from yolox.utils.boxes import bboxes_iou

__all__ = ["Assignment", "simota_assign", "center_prior"]

CENTER_RADIUS = 1.5
IOU_COST_WEIGHT = 3.0
OUTSIDE_COST = 1e6
MAX_CANDIDATES = 10


@dataclass
class Assignment:
    """Result for one image: which anchors are foreground and what they are matched to."""

    fg_mask: torch.Tensor  # [A] bool over all anchors
    matched_gt_inds: torch.Tensor  # [num_fg] index of the ground truth per foreground anchor
    matched_classes: torch.Tensor  # [num_fg]
    matched_ious: torch.Tensor  # [num_fg] IoU of each foreground prediction with its ground truth
    num_fg: int


def center_prior(
    gt_boxes: torch.Tensor, anchor_centers: torch.Tensor, anchor_strides: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchors whose centre lies strictly within 1.5 strides of some gt centre (in x and y).

    Returns (candidate mask [A], in-region relation [G, num_candidates]).
    """
    radius = (anchor_strides * CENTER_RADIUS)[None, :]
    # Written as the official four-sided test (l, r, t, b > 0) to keep boundary behaviour identical.
    left = anchor_centers[None, :, 0] - (gt_boxes[:, 0:1] - radius)
    right = (gt_boxes[:, 0:1] + radius) - anchor_centers[None, :, 0]
    top = anchor_centers[None, :, 1] - (gt_boxes[:, 1:2] - radius)
    bottom = (gt_boxes[:, 1:2] + radius) - anchor_centers[None, :, 1]
    in_region = torch.stack((left, top, right, bottom), dim=2).min(dim=2).values > 0.0
    candidates = in_region.any(dim=0)
    return candidates, in_region[:, candidates]


def _dynamic_k_matching(cost: torch.Tensor, ious: torch.Tensor) -> torch.Tensor:
    """Matching matrix [G, N] (bool): each gt takes its dynamic-k cheapest anchors, conflicts resolved."""
    num_gt, num_anchors = cost.shape
    n_candidate_k = min(MAX_CANDIDATES, num_anchors)
    topk_ious, _ = torch.topk(ious, n_candidate_k, dim=1)
    dynamic_ks = torch.clamp(topk_ious.sum(1).int(), min=1)
    max_k = int(dynamic_ks.max())
    _, cheapest = torch.topk(cost, k=max_k, dim=1, largest=False)
    take = torch.arange(max_k, device=cost.device)[None, :] < dynamic_ks[:, None]
    matching = torch.zeros_like(cost, dtype=torch.bool)
    rows = torch.arange(num_gt, device=cost.device)[:, None].expand(-1, max_k)
    matching[rows[take], cheapest[take]] = True

    claimed = matching.sum(0)
    contested = claimed > 1
    if bool(contested.any()):
        best_gt = cost[:, contested].argmin(dim=0)
        matching[:, contested] = False
        matching[best_gt, contested.nonzero(as_tuple=True)[0]] = True
    return matching


@torch.no_grad()
def simota_assign(
    gt_boxes: torch.Tensor,
    gt_classes: torch.Tensor,
    pred_boxes: torch.Tensor,
    cls_logits: torch.Tensor,
    obj_logits: torch.Tensor,
    anchor_centers: torch.Tensor,
    anchor_strides: torch.Tensor,
) -> Assignment:
    """Assign anchors of one image to its ``G`` ground truths.

    gt_boxes [G, 4] and pred_boxes [A, 4] are (cx, cy, w, h) in input pixels; cls_logits [A, C],
    obj_logits [A, 1]; anchor_centers [A, 2] = (grid + 0.5) * stride; anchor_strides [A].
    """
    num_classes = cls_logits.shape[1]
    candidates, in_region = center_prior(gt_boxes, anchor_centers, anchor_strides)
    if not bool(candidates.any()):  # every gt centre is far outside the anchor grid
        empty = gt_classes.new_zeros(0)
        return Assignment(candidates, empty.long(), empty, pred_boxes.new_zeros(0), 0)
    cand_boxes = pred_boxes[candidates]
    pair_ious = bboxes_iou(gt_boxes, cand_boxes, xyxy=False)
    iou_cost = -torch.log(pair_ious + 1e-8)

    with torch.autocast(device_type=cls_logits.device.type, enabled=False):
        scores = (
            cls_logits[candidates].float().sigmoid() * obj_logits[candidates].float().sigmoid()
        ).sqrt()
        onehot = F.one_hot(gt_classes.long(), num_classes).float()
        num_gt, num_cand = gt_boxes.shape[0], scores.shape[0]
        cls_cost = F.binary_cross_entropy(
            scores.unsqueeze(0).expand(num_gt, num_cand, num_classes),
            onehot.unsqueeze(1).expand(num_gt, num_cand, num_classes),
            reduction="none",
        ).sum(-1)

    cost = cls_cost + IOU_COST_WEIGHT * iou_cost + OUTSIDE_COST * (~in_region)
    matching = _dynamic_k_matching(cost, pair_ious)

    fg_in_candidates = matching.any(dim=0)
    matched_gt_inds = matching[:, fg_in_candidates].int().argmax(dim=0)
    fg_mask = candidates.clone()
    fg_mask[candidates] = fg_in_candidates
    matched_ious = (matching * pair_ious).sum(0)[fg_in_candidates]
    return Assignment(
        fg_mask=fg_mask,
        matched_gt_inds=matched_gt_inds,
        matched_classes=gt_classes[matched_gt_inds],
        matched_ious=matched_ious,
        num_fg=int(fg_in_candidates.sum()),
    )

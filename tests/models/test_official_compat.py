"""Checkpoint compatibility with official YOLOX: key lists for the zoo and the golden nano fixture."""

from __future__ import annotations

import json

import pytest
import torch

from yolox.models import build_model, zoo_config
from yolox.utils.boxes import postprocess

ZOO_FILES = {
    "yolox-nano": "yolox_nano",
    "yolox-tiny": "yolox_tiny",
    "yolox-s": "yolox_s",
    "yolox-m": "yolox_m",
    "yolox-l": "yolox_l",
    "yolox-x": "yolox_x",
    "yolov3": "yolov3",
}


def _state_dict_listing(model: torch.nn.Module) -> list:
    return [
        [k, list(v.shape), str(v.dtype).replace("torch.", "")]
        for k, v in model.state_dict().items()
    ]


@pytest.mark.parametrize("name", sorted(ZOO_FILES))
def test_state_dict_matches_official_key_list(shared_fixtures, name):
    reference = json.loads(
        (shared_fixtures / "state_dict_keys" / f"{ZOO_FILES[name]}.json").read_text()
    )
    model = build_model(zoo_config(name))
    listing = _state_dict_listing(model)
    assert reference["num_keys"] == len(listing)
    mismatches = [(a, b) for a, b in zip(listing, reference["keys"]) if a != b]
    assert not mismatches, f"first mismatch (ours, official): {mismatches[:3]}"


@pytest.fixture(scope="module")
def golden(shared_fixtures):
    return torch.load(shared_fixtures / "golden_yolox_nano.pt", weights_only=True)


@pytest.fixture()
def golden_model(golden):
    model = build_model(zoo_config("yolox-nano"))
    model.load_state_dict(golden["model"], strict=True)
    return model


def _rel_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float) -> bool:
    scale = expected.abs().max().clamp(min=1e-12)
    return bool(((actual - expected).abs().max() / scale) <= rtol)


def test_golden_eval_output(golden, golden_model):
    golden_model.eval()
    with torch.no_grad():
        out = golden_model(golden["input"])
    assert out.shape == golden["eval_output"].shape
    torch.testing.assert_close(
        out, golden["eval_output"], rtol=1e-4, atol=1e-4 * golden["eval_output"].abs().max().item()
    )


def _sorted_rows(det: torch.Tensor) -> torch.Tensor:
    """Rows in a canonical order (class, then score, then corners), independent of NMS order."""
    order = torch.arange(len(det))
    for column in (3, 2, 1, 0):  # stable sorts, least significant key first
        order = order[torch.sort(det[order, column], stable=True).indices]
    order = order[torch.sort(-(det[order, 4] * det[order, 5]), stable=True).indices]
    return det[order[torch.sort(det[order, 6], stable=True).indices]]


def test_golden_postprocess(golden):
    # On the fixture's own eval output: a fresh model's boxes are near-ties, so NMS on our model's
    # output (equal only within float rounding, which depends on the thread count) could flip.
    ref = golden["postprocess"]
    ours = postprocess(golden["eval_output"].clone(), 80, ref["conf_thre"], ref["nms_thre"])
    assert len(ours) == len(ref["detections"])
    for mine, theirs in zip(ours, ref["detections"]):
        if theirs is None:
            assert mine is None
            continue
        assert mine is not None and mine.shape == theirs.shape
        torch.testing.assert_close(_sorted_rows(mine), _sorted_rows(theirs), rtol=1e-4, atol=1e-3)


def test_golden_training_losses_and_gradients(golden, golden_model):
    golden_model.train()
    golden_model.head.use_l1 = True
    losses = golden_model(golden["input"], golden["targets"])
    for key, expected in golden["train_losses"].items():
        value = torch.as_tensor(losses[key], dtype=torch.float64)
        expected = torch.as_tensor(expected, dtype=torch.float64)
        assert torch.isclose(value, expected, rtol=1e-4, atol=1e-6), f"{key}: {value} vs {expected}"
    losses["total_loss"].backward()
    params = dict(golden_model.named_parameters())
    for key, expected in golden["grad_head_cls_preds_0"].items():
        assert _rel_close(params[key].grad, expected, 1e-3), key


def test_golden_l1_term_is_switchable(golden, golden_model):
    golden_model.train()
    golden_model.head.use_l1 = False
    losses = golden_model(golden["input"], golden["targets"])
    assert float(losses["l1_loss"].detach()) == 0.0
    expected = golden["train_losses"]
    without_l1 = float(expected["total_loss"]) - float(expected["l1_loss"])
    assert abs(float(losses["total_loss"].detach()) - without_l1) <= 1e-4 * abs(without_l1)


def test_official_import_paths_work():
    from yolox.utils import fuse_model, get_model_info
    from yolox.utils import postprocess as official_path

    assert official_path is postprocess and callable(fuse_model) and callable(get_model_info)

"""``torch.hub.load(<checkout>, "yolox_nano", source="local", ...)`` and the other official entries.

Weights come through the weights cache only: a release-layout file is put in ``$YOLOX_HOME``
and ``$YOLOX_WEIGHTS_URL`` points at an empty folder, so nothing is ever fetched from the net.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = ["yolov3", "yolox_custom", "yolox_l", "yolox_m", "yolox_nano", "yolox_s", "yolox_tiny",
           "yolox_x"]  # fmt: skip


def _release_weights(shared_fixtures: Path, size: str, seed: int = 0) -> dict:
    """A state dict with exactly the official keys, shapes and dtypes, random values."""
    keys = json.loads((shared_fixtures / "state_dict_keys" / f"{size}.json").read_text())["keys"]
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape, dtype in keys:
        if dtype != "float32":
            state[name] = torch.zeros(shape, dtype=torch.int64)
        elif name.endswith("running_var"):
            state[name] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[name] = torch.randn(shape, generator=gen) * 0.1
    return state


@pytest.fixture
def cache(tmp_path, monkeypatch, shared_fixtures):
    """yolox_nano.pth in the cache; the download base an empty local folder (no network)."""
    home = tmp_path / "home"
    home.mkdir()
    weights = _release_weights(shared_fixtures, "yolox_nano")
    torch.save({"model": weights}, home / "yolox_nano.pth")
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("YOLOX_HOME", str(home))
    monkeypatch.setenv("YOLOX_WEIGHTS_URL", str(tmp_path / "mirror"))
    return weights


def test_hubconf_has_the_official_entries():
    from yolox.utils.pyfile import import_file

    hubconf = import_file(ROOT / "hubconf.py", prefix="hubconf")
    assert hubconf.dependencies == ["torch"]
    public = sorted(n for n, v in vars(hubconf).items() if callable(v) and not n.startswith("_"))
    assert public == ENTRIES


def test_pretrained_nano_loads_the_cached_weights(cache):
    model = torch.hub.load(str(ROOT), "yolox_nano", source="local", pretrained=True, device="cpu")
    got = model.state_dict()
    assert list(got) == list(cache)
    assert all(torch.equal(got[k], cache[k]) for k in cache)
    assert next(model.parameters()).device.type == "cpu"


def test_without_pretrained_or_with_other_classes_nothing_is_loaded(cache):
    plain = torch.hub.load(str(ROOT), "yolox_nano", source="local", pretrained=False, device="cpu")
    key = "head.cls_preds.0.weight"
    assert not torch.equal(plain.state_dict()[key], cache[key])
    three = torch.hub.load(
        str(ROOT), "yolox_nano", source="local", pretrained=True, num_classes=3, device="cpu"
    )
    assert three.head.cls_preds[0].out_channels == 3


def test_missing_weights_fail_with_where_to_put_them(cache):
    from yolox.utils.download import DownloadError

    with pytest.raises(DownloadError, match="offline\\? put yolox_tiny.pth"):
        torch.hub.load(str(ROOT), "yolox_tiny", source="local", pretrained=True, device="cpu")


def test_custom_entry_builds_an_official_exp_and_loads_its_checkpoint(shared_fixtures, tmp_path):
    exp_path = shared_fixtures / "official_exps" / "example_custom_nano.py"
    from yolox.exp import get_exp

    weights = get_exp(str(exp_path)).get_model().state_dict()
    weights = {k: v + 1 if v.is_floating_point() else v for k, v in weights.items()}
    ckpt = tmp_path / "custom.pth"
    torch.save({"model": weights, "start_epoch": 3}, ckpt)
    model = torch.hub.load(
        str(ROOT), "yolox_custom", source="local", exp_path=str(exp_path), ckpt_path=str(ckpt),
        device="cpu",
    )  # fmt: skip
    assert model.head.cls_preds[0].out_channels == 71
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())

    from yolox.models import create_yolox_model
    from yolox.utils.errors import UserError

    with pytest.raises(UserError, match="choose one of .* or give exp_path"):
        create_yolox_model("yolox_custom")

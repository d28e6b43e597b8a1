"""yolox/deploy/export.py: the pinned ONNX opset and the metadata update."""

from __future__ import annotations

import copy

import pytest

from yolox.testing.fixtures import make_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from yolox.deploy.export import DEFAULT_OPSET, export_onnx, update_onnx_metadata  # noqa: E402

SIZE = (64, 64)


def _opset(path) -> int:
    return next(o.version for o in onnx.load(str(path)).opset_import if o.domain in ("", "ai.onnx"))


@pytest.mark.parametrize("attention", [None, "ema"])
def test_the_default_opset_is_pinned_whatever_the_model(tmp_path, attention):
    """One opset for every model (13: ema's unflatten and per-channel int8 need it), not one
    found by retrying the exporter and reading its error text."""
    model, _ = make_model(attention, perturb=False)
    result = export_onnx(copy.deepcopy(model), tmp_path / "m.onnx", test_size=SIZE, simplify=False)
    assert DEFAULT_OPSET == 13
    assert result["opset"] == DEFAULT_OPSET == _opset(tmp_path / "m.onnx")


def test_an_explicit_opset_is_used_as_given(tmp_path):
    model, _ = make_model(None, perturb=False)
    result = export_onnx(model, tmp_path / "m11.onnx", test_size=SIZE, opset=11, simplify=False)
    assert result["opset"] == 11 == _opset(tmp_path / "m11.onnx")


def test_metadata_update_replaces_and_keeps_keys(tmp_path):
    model, _ = make_model(None, perturb=False)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, test_size=SIZE, simplify=False, class_names=("a", "b", "c"))
    proto = onnx.load(str(path))
    before = {p.key: p.value for p in proto.metadata_props}
    update_onnx_metadata(proto, {"yolox.precision": '"int8"', "yolox.test_size": "[32, 32]"})
    onnx.save(proto, str(tmp_path / "updated.onnx"))
    # read back by ONNX Runtime, an independent reader of the same props
    session = ort.InferenceSession(
        str(tmp_path / "updated.onnx"), providers=["CPUExecutionProvider"]
    )
    after = session.get_modelmeta().custom_metadata_map
    assert after == {**before, "yolox.precision": '"int8"', "yolox.test_size": "[32, 32]"}
    assert after["yolox.class_names"] == '["a", "b", "c"]'

"""Exports are atomic and exported files without this project's metadata are refused (18.3).

A "kill" is a failure injected in the middle of the write (after bytes reached the temporary
file): the final name must keep the previous good export, with nothing half-written beside it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import yolox.utils.atomic_files as atomic_module
from yolox.deploy.export import export_onnx, export_torchscript
from yolox.deploy.exported import ExportedPredictor
from yolox.testing.fixtures import CLASS_NAMES, make_model, write_exp, write_image
from yolox.tools.demo import main as demo_main
from yolox.utils.atomic_files import atomic_output, publish_files
from yolox.utils.errors import UserError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:FutureWarning")

SIZE = (64, 64)


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def nano():
    return make_model(None, seed=1)


def _export_onnx(nano, path, **kw):
    model, cfg = nano
    return export_onnx(
        copy.deepcopy(model), path, test_size=SIZE, class_names=CLASS_NAMES, config=cfg, **kw
    )


def _leftovers(folder: Path, keep) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_a_killed_onnx_re_export_keeps_the_previous_good_file(tmp_path, nano, monkeypatch):
    path = tmp_path / "m.onnx"
    _export_onnx(nano, path)
    good = path.read_bytes()
    real_save = onnx.save

    def dying_save(proto, target, *args, **kwargs):
        with open(target, "wb") as handle:  # part of the bytes, then the kill
            handle.write(proto.SerializeToString()[:1000])
        raise Killed

    monkeypatch.setattr(onnx, "save", dying_save)
    with pytest.raises(Killed):
        _export_onnx(nano, path)
    monkeypatch.setattr(onnx, "save", real_save)
    assert path.read_bytes() == good
    assert _leftovers(tmp_path, {"m.onnx"}) == []
    assert ExportedPredictor(path).class_names == CLASS_NAMES


def test_a_first_export_killed_leaves_no_file_and_stale_parts_are_removed(
    tmp_path, nano, monkeypatch
):
    path = tmp_path / "m.onnx"
    monkeypatch.setattr(onnx.checker, "check_model", lambda proto: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        _export_onnx(nano, path)
    monkeypatch.undo()
    assert not path.exists() and _leftovers(tmp_path, set()) == []
    stale = tmp_path / ".m.part-0badc0de.onnx"  # what kill -9 leaves (no cleanup runs)
    stale.write_bytes(b"half")
    _export_onnx(nano, path)
    assert not stale.exists() and path.is_file()


def test_a_killed_torchscript_re_export_keeps_the_previous_good_file(tmp_path, nano, monkeypatch):
    model, cfg = nano
    path = tmp_path / "m.torchscript.pt"
    export_torchscript(copy.deepcopy(model), path, test_size=SIZE, class_names=CLASS_NAMES)
    good = path.read_bytes()
    real = torch.jit.save

    def dying(obj, target, *args, **kwargs):
        real(obj, target, *args, **kwargs)
        raise Killed

    monkeypatch.setattr(torch.jit, "save", dying)
    with pytest.raises(Killed):
        export_torchscript(copy.deepcopy(model), path, test_size=SIZE, class_names=CLASS_NAMES)
    assert path.read_bytes() == good and _leftovers(tmp_path, {path.name}) == []


def test_a_pair_killed_between_its_renames_is_refused_until_exported_again(tmp_path, monkeypatch):
    xml, binary = tmp_path / "m.xml", tmp_path / "m.bin"

    def write_pair(text: str) -> None:
        with atomic_output(xml, companions=(".bin",)) as temp:
            Path(temp).write_text(text)
            Path(temp[: -len(".xml")] + ".bin").write_text(text)

    write_pair("old")
    real_replace = os.replace
    calls = []

    def dying_replace(src, dst):
        calls.append(dst)
        if str(dst).endswith(".xml"):
            raise Killed  # the .bin is already the new one
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", dying_replace)
    with pytest.raises(Killed):
        write_pair("new")
    monkeypatch.undo()
    assert [Path(c).suffix for c in calls] == [".bin", ".xml"]  # the main file last
    assert xml.read_text() == "old" and binary.read_text() == "new"
    with pytest.raises(UserError, match=r"m\.xml: its export was interrupted .*export it again"):
        atomic_module.check_complete(xml)
    write_pair("new")
    atomic_module.check_complete(xml)
    assert xml.read_text() == binary.read_text() == "new"
    assert _leftovers(tmp_path, {"m.xml", "m.bin"}) == []


def test_publish_files_replaces_a_pair_and_leaves_no_temporary_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.xml").write_text("x2")
    (src / "a.bin").write_text("b2")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.xml").write_text("x1")
    (out / "a.bin").write_text("b1")
    publish_files([src / "a.xml", src / "a.bin"], [out / "a.xml", out / "a.bin"])
    assert (out / "a.xml").read_text() == "x2" and (out / "a.bin").read_text() == "b2"
    assert _leftovers(out, {"a.xml", "a.bin"}) == []


def test_openvino_ir_is_written_as_a_checked_pair(tmp_path, nano, monkeypatch):
    pytest.importorskip("openvino")
    from yolox.deploy.openvino_export import export_openvino

    model, cfg = nano
    path = tmp_path / "m.xml"
    export_openvino(copy.deepcopy(model), path, test_size=SIZE, class_names=CLASS_NAMES, config=cfg)
    assert _leftovers(tmp_path, {"m.xml", "m.bin"}) == []
    good = (path.read_bytes(), (tmp_path / "m.bin").read_bytes())
    real_replace = os.replace

    def dying_replace(src, dst):
        if str(dst).endswith(".xml"):
            raise Killed
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", dying_replace)
    with pytest.raises(Killed):
        export_openvino(copy.deepcopy(model), path, test_size=SIZE, class_names=("a", "b", "c"))
    monkeypatch.undo()
    assert path.read_bytes() == good[0]
    with pytest.raises(UserError, match="export was interrupted"):
        ExportedPredictor(path)


def _strip_metadata(src: Path, dst: Path) -> Path:
    proto = onnx.load(os.fspath(src))
    del proto.metadata_props[:]
    onnx.save(proto, os.fspath(dst))
    return dst


def test_an_export_without_metadata_is_refused_unless_names_and_size_are_given(tmp_path, nano):
    good = tmp_path / "m.onnx"
    _export_onnx(nano, good, dynamic=True)
    bare = _strip_metadata(good, tmp_path / "bare.onnx")
    with pytest.raises(UserError, match=r"bare\.onnx has no YOLOX-Attention export metadata"):
        ExportedPredictor(bare)
    with pytest.raises(UserError, match="no YOLOX-Attention export metadata"):
        ExportedPredictor(bare, class_names=CLASS_NAMES)  # a dynamic graph: the size is a guess
    static = tmp_path / "static.onnx"
    _export_onnx(nano, static)
    static_bare = _strip_metadata(static, tmp_path / "static_bare.onnx")
    assert ExportedPredictor(static_bare, class_names=CLASS_NAMES).test_size == SIZE  # its own
    with pytest.raises(UserError, match="no YOLOX-Attention export metadata"):
        ExportedPredictor(static_bare, test_size=SIZE)  # names '0', '1', '2' would be a guess
    given = ExportedPredictor(bare, class_names=CLASS_NAMES, test_size=SIZE, conf=0.01)
    reference = ExportedPredictor(good, conf=0.01)
    image = np.random.default_rng(0).integers(0, 255, (80, 96, 3), dtype=np.uint8)
    a, b = given.predict(image), reference.predict(image)
    assert given.class_names == CLASS_NAMES and given.test_size == SIZE
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-4)


def test_demo_refuses_a_bare_or_corrupt_export_with_one_line(tmp_path, nano, capsys):
    good = tmp_path / "m.onnx"
    _export_onnx(nano, good)
    image = write_image(tmp_path / "img.jpg")
    bare = _strip_metadata(good, tmp_path / "bare.onnx")
    corrupt = tmp_path / "cut.onnx"
    corrupt.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    base = ["image", "--backend", "onnxruntime", "--path", str(image)]
    for path, message in (
        (bare, "no YOLOX-Attention export metadata"),
        (corrupt, "not a readable ONNX model"),
    ):
        assert demo_main([*base, "--onnx", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and str(path) in err[0], err
    exp = write_exp(tmp_path / "e.py", f"self.num_classes = 3\nself.class_names = {CLASS_NAMES!r}")
    argv = [*base, "--onnx", str(bare), "-f", str(exp), "--tsize", "64"]
    assert demo_main(argv) == 0  # names from the exp, size from --tsize: accepted


def test_demo_refuses_a_corrupt_openvino_ir_with_one_line(tmp_path, capsys):
    pytest.importorskip("openvino")
    xml = tmp_path / "m.xml"
    xml.write_text("<net name='x'><layers><layer id='0'")
    (tmp_path / "m.bin").write_bytes(b"\0" * 8)
    image = write_image(tmp_path / "img.jpg")
    argv = ["image", "--backend", "openvino", "--xml", str(xml), "--path", str(image)]
    assert demo_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable OpenVINO IR" in err[0], err

"""tools/visualize_attention.py writes one valid, non-blank PNG per attention module."""

from __future__ import annotations

import cv2
import pytest
import torch

from yolox.testing.fixtures import (  # noqa: E402
    make_model,
    save_model_checkpoint,
    write_image,
)
from yolox.tools.visualize_attention import main  # noqa: E402


@pytest.mark.parametrize(
    "attention, kind",
    [
        ("cam", "spatial"),
        ("se", "channel"),
        ("cbam", "spatial"),
        ("eca", "channel"),
        ("simam", "spatial"),
    ],
)
def test_one_png_per_position(attention, kind, tmp_path):
    model, cfg = make_model(attention)
    ckpt = save_model_checkpoint(tmp_path / f"{attention}.pth", model, cfg)
    image = write_image(tmp_path / "img.jpg", 100, 140)
    out = tmp_path / "maps"
    assert (
        main(["-c", str(ckpt), "--path", str(image), "--output-dir", str(out), "--tsize", "128"])
        == 0
    )
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [
        f"{i:02d}_{p}_{attention}_{kind}.png" for i, p in enumerate(["dark3", "dark4", "dark5"])
    ]
    for f in files:
        png = cv2.imread(str(f))
        assert png is not None and png.std() > 0
        if kind == "spatial":  # overlays keep the image's own size
            assert png.shape[:2] == (100, 140)


def test_captured_maps_match_the_modules_own_gates():
    """Independent check: recompute the SE and CAM gates from the captured module inputs."""
    from yolox.inference.attention_maps import capture_attention_maps

    x = torch.rand(1, 3, 64, 96) * 255
    for attention in ("se", "cam"):
        model, _ = make_model(attention)
        inputs = {}
        module = model.backbone.attention["dark4"]
        handle = module.register_forward_hook(
            lambda m, i, o, store=inputs: store.__setitem__("x", i[0].detach())
        )
        maps = {m.position: m for m in capture_attention_maps(model, x)}
        handle.remove()
        feat = inputs["x"]
        with torch.no_grad():
            if attention == "se":
                expected = (
                    module.fc2(module.act(module.fc1(feat.mean((2, 3), keepdim=True))))
                    .sigmoid()
                    .flatten()
                )
            else:
                a_h = module.conv_h(
                    module.act(module.bn1(module.conv1(feat.mean(3, keepdim=True))))
                ).sigmoid()
                a_w = module.conv_w(
                    module.act(module.bn1(module.conv1(feat.mean(2, keepdim=True).transpose(2, 3))))
                ).sigmoid()
                expected = (a_h * a_w.transpose(2, 3)).mean(1)[0]
        torch.testing.assert_close(
            torch.from_numpy(maps["dark4"].values), expected, rtol=1e-4, atol=1e-5
        )


def test_model_without_attention_is_refused(tmp_path, capsys):
    model, cfg = make_model(None, perturb=False)
    ckpt = save_model_checkpoint(tmp_path / "plain.pth", model, cfg)
    image = write_image(tmp_path / "img.jpg")
    assert main(["-c", str(ckpt), "--path", str(image), "--output-dir", str(tmp_path / "o")]) == 2
    assert "no attention modules" in capsys.readouterr().err


def test_default_size_is_the_checkpoints_test_size(tmp_path, monkeypatch):
    """Without --tsize or an exp, the network sees the trained test size, not 640 x 640."""
    import yolox.tools.visualize_attention as tool
    from yolox.utils.checkpoint import InferenceSettings, save_checkpoint

    model, cfg = make_model("cam")
    state = {
        "model": model.state_dict(),
        "model_config": cfg.to_dict(),
        "inference": InferenceSettings(test_size=(96, 160)).to_dict(),
    }
    ckpt = save_checkpoint(tmp_path / "cam.pth", state)
    seen = []

    def recording(net, batch):
        seen.append(tuple(batch.shape))
        return capture(net, batch)

    capture = tool.capture_attention_maps
    monkeypatch.setattr(tool, "capture_attention_maps", recording)
    image = write_image(tmp_path / "img.jpg", 100, 140)
    assert main(["-c", str(ckpt), "--path", str(image), "--output-dir", str(tmp_path / "o")]) == 0
    assert seen == [(1, 3, 96, 160)]


def test_truncated_jpeg_is_a_one_line_error(tmp_path, capsys):
    model, cfg = make_model("se")
    ckpt = save_model_checkpoint(tmp_path / "se.pth", model, cfg)
    image = write_image(tmp_path / "img.jpg", 100, 140)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    argv = ["-c", str(ckpt), "--path", str(cut), "--output-dir", str(tmp_path / "o")]
    assert main(argv + ["--tsize", "128"]) == 2
    err = capsys.readouterr().err
    assert "truncated JPEG" in err and str(cut) in err
    assert not (tmp_path / "o").exists()

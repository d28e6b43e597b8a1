"""Robust decoding: formats, channels, EXIF orientation, truncation, garbage, missing files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from yolox.data.datasets.errors import DatasetError
from yolox.data.datasets.image_io import image_size_from_header, is_truncated_jpeg, read_image
from yolox.testing.data_files import jpeg_bytes, png_bytes


def test_png_data_named_jpg(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "x.jpg"
    path.write_bytes(png_bytes(img))
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    np.testing.assert_array_equal(out, img)  # PNG is lossless: exact pixels


def test_rgba_and_grey_become_bgr(tmp_path):
    bgra = np.zeros((8, 9, 4), np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2], bgra[..., 3] = 10, 20, 30, 128
    (tmp_path / "a.png").write_bytes(png_bytes(bgra))
    out = read_image(tmp_path / "a.png")
    assert out.shape == (8, 9, 3)
    assert tuple(out[0, 0]) == (10, 20, 30)
    grey = np.full((5, 6), 77, np.uint8)
    (tmp_path / "g.png").write_bytes(png_bytes(grey))
    out = read_image(tmp_path / "g.png")
    assert out.shape == (5, 6, 3) and (out == 77).all()


def test_sixteen_bit_png_becomes_uint8(tmp_path):
    img = np.full((4, 4, 3), 65535, np.uint16)
    (tmp_path / "d.png").write_bytes(png_bytes(img))
    out = read_image(tmp_path / "d.png")
    assert out.dtype == np.uint8 and (out == 255).all()


def test_exif_orientation_is_applied(tmp_path):
    # Raw pixels 20 high x 40 wide, left half white; orientation 6 = rotate 90 deg clockwise.
    raw = np.zeros((20, 40, 3), np.uint8)
    raw[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rot.jpg"
    Image.fromarray(raw).save(path, exif=exif.tobytes(), quality=95)
    out = read_image(path)
    assert out.shape[:2] == (40, 20)
    # After a clockwise quarter turn the raw left half (white) is on top.
    assert out[:18].mean() > 200 and out[22:].mean() < 50
    assert image_size_from_header(path) == (40, 20)


def test_truncated_jpeg_is_an_error_naming_the_file(tmp_path):
    img = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = jpeg_bytes(img)
    assert not is_truncated_jpeg(data)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])
    assert is_truncated_jpeg(path.read_bytes())
    with pytest.raises(DatasetError, match="cut.jpg"):
        read_image(path)


@pytest.mark.parametrize(
    "content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 20]
)
def test_garbage_and_empty_files(tmp_path, content):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="bad.jpg"):
        read_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="nope.jpg"):
        read_image(tmp_path / "nope.jpg")
    assert issubclass(DatasetError, ValueError)


def test_header_size_matches_decode(tmp_path):
    path = tmp_path / "s.jpg"
    cv2.imwrite(str(path), np.zeros((13, 17, 3), np.uint8))
    assert image_size_from_header(path) == read_image(path).shape[:2] == (13, 17)

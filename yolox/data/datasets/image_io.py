"""Robust image decoding: any format OpenCV reads, always 3-channel BGR uint8, EXIF applied."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from .errors import DatasetError, TruncatedImageError

__all__ = ["read_image", "image_size_from_header", "is_truncated_jpeg", "value_range"]

PathLike = Union[str, Path]


def is_truncated_jpeg(data: bytes) -> bool:
    """True for JPEG bytes whose last scan has no end-of-image marker after it.

    libjpeg decodes such files with a grey lower part and only a console warning, so they would
    silently train on a wrong picture. Inside entropy-coded data 0xFF is always stuffed, so an
    EOI (FFD9) after the last start-of-scan (FFDA) is a reliable completeness test.
    """
    if not data.startswith(b"\xff\xd8"):
        return False
    last_scan = data.rfind(b"\xff\xda")
    if last_scan < 0:
        return True
    return data.find(b"\xff\xd9", last_scan + 2) < 0


def read_image(path: PathLike) -> np.ndarray:
    """Decode an image file to HxWx3 BGR uint8, or raise DatasetError naming the file.

    The format is detected from the content (a PNG named .jpg works); greyscale, RGBA and 16-bit
    images become 8-bit BGR (16-bit scaled by their real bit depth, see :func:`value_range`);
    a truncated JPEG raises TruncatedImageError; the EXIF orientation tag is applied (IMREAD_COLOR does that).
    Bytes are read with Python so non-ASCII paths work on every platform.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"image file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DatasetError(f"cannot read image file {path}: {err}") from err
    if not data:
        raise DatasetError(f"image file is empty: {path}")
    if is_truncated_jpeg(data):
        raise TruncatedImageError(f"truncated JPEG (no end-of-image marker): {path}")
    # ANYDEPTH keeps 16 bits (IMREAD_COLOR alone shifts them to 8, losing 12-bit data)
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if img is None or img.size == 0:
        raise DatasetError(f"cannot decode image (corrupt or unsupported format): {path}")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / value_range(img))
    return np.ascontiguousarray(img[:, :, :3])


def value_range(img: np.ndarray) -> float:
    """The full-scale value of a high-bit-depth image: the smallest ``2**k - 1`` (k >= 8) that
    holds its maximum, so 12-bit data in a 16-bit PNG maps 4095 to 255 (and a dark 12-bit
    image stays dark instead of being stretched)."""
    if np.issubdtype(img.dtype, np.floating):
        top = float(np.nanmax(img)) if img.size else 1.0
        return 1.0 if top <= 1.0 else top
    bits = max(int(np.ceil(np.log2(float(img.max()) + 1.0))), 8) if img.size else 8
    return float(2**bits - 1)


def image_size_from_header(path: PathLike) -> Optional[Tuple[int, int]]:
    """(height, width) after EXIF orientation, read from the file header only; None if unknown.

    Reading only the header keeps dataset construction fast while still catching annotation
    files whose recorded size is 0x0 or wrong.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with torchvision
        return None
    try:
        with Image.open(path) as im:
            width, height = im.size
            try:
                orientation = im.getexif().get(0x0112, 1)
            except Exception:  # noqa: BLE001 - broken EXIF blocks are common; ignore them
                orientation = 1
    except Exception:  # noqa: BLE001 - PIL raises many types for unreadable files
        return None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return int(height), int(width)

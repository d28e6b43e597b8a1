"""Fixtures for the data tests: tiny VOC/COCO datasets written into tmp_path, log capture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest
from loguru import logger


@pytest.fixture
def make_voc(tmp_path: Path) -> Callable[..., Path]:
    """Write a VOC-layout root: entries {id: (image bytes or None, xml text or None)}."""

    def make(
        entries: Dict[str, Tuple[Optional[bytes], Optional[str]]],
        sets: Optional[Dict[str, List[str]]] = None,
        root: Optional[Path] = None,
    ) -> Path:
        root = root or tmp_path / "voc"
        for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for image_id, (image, xml) in entries.items():
            if image is not None:
                (root / "JPEGImages" / f"{image_id}.jpg").write_bytes(image)
            if xml is not None:
                (root / "Annotations" / f"{image_id}.xml").write_text(xml)
        for name, ids in (sets or {"trainval": list(entries)}).items():
            (root / "ImageSets" / "Main" / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))
        return root

    return make


@pytest.fixture
def make_coco(tmp_path: Path) -> Callable[..., Tuple[Path, str, str]]:
    """Write data_dir/annotations/<json> + data_dir/<name>/ images; returns (data_dir, json, name)."""

    def make(
        data: dict,
        images: Dict[str, bytes],
        json_name: str = "instances_x.json",
        name: str = "imgs",
    ) -> Tuple[Path, str, str]:
        root = tmp_path / "coco"
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / name).mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else json.dumps(data)
        (root / "annotations" / json_name).write_text(text)
        for file_name, blob in images.items():
            (root / name / file_name).write_bytes(blob)
        return root, json_name, name

    return make


@pytest.fixture
def log_messages() -> List[str]:
    """Messages loguru logs at WARNING or above while the test runs."""
    messages: List[str] = []
    sink = logger.add(lambda m: messages.append(str(m)), level="WARNING", format="{message}")
    yield messages
    logger.remove(sink)

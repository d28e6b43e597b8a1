"""RAM and disk caches give the same items as decoding, and remember unreadable images."""

from __future__ import annotations

import numpy as np
import pytest

from yolox.data import VOCDetection
from yolox.testing.data_files import jpeg_bytes, solid_image, voc_xml


@pytest.fixture
def voc_root(make_voc):
    entries = {}
    for i in range(3):
        entries[f"c{i}"] = (
            jpeg_bytes(solid_image(30 + i, 40, seed=i)),
            voc_xml(f"c{i}.jpg", (40, 30 + i), [("a", (2, 2, 20, 20))]),
        )
    return make_voc(entries)


@pytest.mark.parametrize("cache_type", ["ram", "disk"])
def test_cache_matches_decoding(voc_root, tmp_path, cache_type):
    plain = VOCDetection(voc_root, "trainval", img_size=(32, 32), class_names=("a",))
    cached = VOCDetection(
        voc_root,
        "trainval",
        img_size=(32, 32),
        class_names=("a",),
        cache=True,
        cache_type=cache_type,
    )
    for i in range(len(plain)):
        a, b = plain.pull_item(i), cached.pull_item(i)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert a[2] == b[2]
    b[0][:] = 0  # items are copies: the cache is not modified by in-place augmentation
    assert cached.pull_item(len(plain) - 1)[0].any()
    if cache_type == "disk":
        # named after the dataset folder, not the historical "VOC0712" of every VOC-layout set
        files = sorted((voc_root / f"img_resized_cache_{voc_root.name}_32x32").glob("*.npy"))
        assert len(files) == 3


def test_disk_cache_reused_and_custom_dir(voc_root, tmp_path):
    cache_dir = tmp_path / "cache"
    VOCDetection(
        voc_root,
        "trainval",
        img_size=(32, 32),
        class_names=("a",),
        cache=True,
        cache_type="disk",
        cache_dir=cache_dir,
    )
    stamp = {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()}
    again = VOCDetection(
        voc_root,
        "trainval",
        img_size=(32, 32),
        class_names=("a",),
        cache=True,
        cache_type="disk",
        cache_dir=cache_dir,
    )
    assert {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()} == stamp
    assert again.pull_item(0)[0].shape == (24, 32, 3)


def test_unreadable_image_while_caching_is_substituted(voc_root, log_messages):
    ds = VOCDetection(voc_root, "trainval", img_size=(32, 32), class_names=("a",))
    (voc_root / "JPEGImages" / "c1.jpg").write_bytes(b"garbage")
    ds.cache_images("ram")
    assert any("could not be cached" in m for m in log_messages)
    _, _, _, index = ds.pull_item(1)
    assert index != 1 and any("c1.jpg" in m for m in log_messages)


def test_bad_cache_type(voc_root):
    with pytest.raises(ValueError, match="cache_type"):
        VOCDetection(voc_root, "trainval", class_names=("a",), cache=True, cache_type="gpu")


def test_disk_cache_shared_by_two_image_sets(make_voc, tmp_path):
    entries = {
        f"s{i}": (
            jpeg_bytes(solid_image(30, 40, seed=10 + i)),
            voc_xml(f"s{i}.jpg", (40, 30), [("a", (2, 2, 9, 9))]),
        )
        for i in range(3)
    }
    root = make_voc(entries, sets={"one": ["s0", "s1"], "two": ["s2", "s1"]})
    kw = dict(
        img_size=(32, 32),
        class_names=("a",),
        cache=True,
        cache_type="disk",
        cache_dir=tmp_path / "shared",
    )
    VOCDetection(root, "one", **kw)
    two = VOCDetection(root, "two", **kw)  # same folder, other order: files are keyed by image
    plain = VOCDetection(root, "two", img_size=(32, 32), class_names=("a",))
    for i in range(2):
        np.testing.assert_array_equal(two.pull_item(i)[0], plain.pull_item(i)[0])
    assert len(list((tmp_path / "shared").glob("*.npy"))) == 3

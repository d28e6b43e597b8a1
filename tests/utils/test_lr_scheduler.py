"""LR schedules against the formulas written out independently at key iterations."""

from __future__ import annotations

import math

import pytest

from yolox.utils.lr_scheduler import LRScheduler

LR, IPE, EPOCHS = 0.01, 10, 20


def _reference_yolox(it: float, warm_epochs=2, no_aug=3, min_ratio=0.05, start=0.0) -> float:
    warm, total, tail = warm_epochs * IPE, EPOCHS * IPE, no_aug * IPE
    low = LR * min_ratio
    if it <= warm:
        return start + (LR - start) * (it / warm) ** 2
    if it >= total - tail:
        return low
    frac = (it - warm) / (total - warm - tail)
    return low + (LR - low) * (1 + math.cos(math.pi * frac)) / 2


def test_yoloxwarmcos_key_iterations():
    sched = LRScheduler(
        "yoloxwarmcos",
        LR,
        IPE,
        EPOCHS,
        warmup_epochs=2,
        warmup_lr_start=0.0,
        no_aug_epochs=3,
        min_lr_ratio=0.05,
    )
    assert sched.update_lr(0) == 0.0
    assert sched.update_lr(10) == pytest.approx(LR / 4)  # half of warm-up, quadratic
    assert sched.update_lr(20) == pytest.approx(LR)  # end of warm-up: peak
    mid = 20 + (200 - 20 - 30) / 2
    assert sched.update_lr(mid) == pytest.approx(LR * 0.05 + (LR - LR * 0.05) / 2)
    assert sched.update_lr(170) == pytest.approx(LR * 0.05)  # no-aug tail starts: min lr
    assert sched.update_lr(199) == pytest.approx(LR * 0.05)
    for it in range(0, 201, 7):
        assert sched.update_lr(it) == pytest.approx(_reference_yolox(it))


def test_warmcos_cos_multistep():
    warm = LRScheduler("warmcos", LR, IPE, EPOCHS, warmup_epochs=1, warmup_lr_start=1e-4)
    assert warm.update_lr(0) == pytest.approx(1e-4)
    assert warm.update_lr(5) == pytest.approx(1e-4 + (LR - 1e-4) * 0.5)
    assert warm.update_lr(10) == pytest.approx(LR)
    assert warm.update_lr(105) == pytest.approx(LR * 0.5)
    assert warm.update_lr(200) == pytest.approx(0.0, abs=1e-12)
    cos = LRScheduler("cos", LR, IPE, EPOCHS)
    assert cos.update_lr(0) == pytest.approx(LR)
    assert cos.update_lr(100) == pytest.approx(LR / 2)
    step = LRScheduler("multistep", LR, IPE, EPOCHS, milestones=[5, 15], gamma=0.1)
    assert step.update_lr(49) == pytest.approx(LR)
    assert step.update_lr(50) == pytest.approx(LR * 0.1)
    assert step.update_lr(150) == pytest.approx(LR * 0.01)


def test_semi_schedule_matches_plain_one_when_epochs_have_equal_length():
    common = dict(warmup_epochs=2, warmup_lr_start=0.0, no_aug_epochs=3, min_lr_ratio=0.05)
    plain = LRScheduler("yoloxwarmcos", LR, IPE, EPOCHS, **common)
    semi = LRScheduler(
        "yoloxsemiwarmcos", LR, IPE, EPOCHS, iters_per_epoch_semi=IPE, semi_epoch=8, **common
    )
    for it in range(0, 200, 3):
        assert semi.update_lr(it) == pytest.approx(plain.update_lr(it))
    # semi epochs twice as long: the cosine clock runs at half speed after epoch 8
    slow = LRScheduler(
        "yoloxsemiwarmcos", LR, IPE, EPOCHS, iters_per_epoch_semi=2 * IPE, semi_epoch=8, **common
    )
    assert slow.update_lr(80 + 20) == pytest.approx(plain.update_lr(80 + 10))


def test_unknown_scheduler():
    with pytest.raises(ValueError, match="unknown lr scheduler .nope.; choose one of"):
        LRScheduler("nope", LR, IPE, EPOCHS)

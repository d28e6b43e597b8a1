"""Recipe traps said at the start of training, not discovered from the curves (issue 21.8)."""

from __future__ import annotations

import pytest
from loguru import logger
from toy_exp import make_args, make_exp

from yolox.core.trainer import Trainer


@pytest.fixture
def warnings_logged():
    lines: list = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    yield lines
    logger.remove(sink)


@pytest.mark.parametrize("max_epoch, no_aug, warned", [(1, 1, True), (2, 3, True), (2, 1, False)])
def test_max_epoch_at_or_below_no_aug_epochs_is_said_at_start(
    tmp_path, warnings_logged, max_epoch, no_aug, warned
):
    exp = make_exp(tmp_path, max_epoch=max_epoch, no_aug_epochs=no_aug, dataset_size=4)
    Trainer(exp, make_args("r")).train()
    said = [m for m in warnings_logged if "without mosaic" in m]
    assert bool(said) == warned
    if warned:
        assert f"max_epoch {max_epoch} <= no_aug_epochs {no_aug}" in said[0]

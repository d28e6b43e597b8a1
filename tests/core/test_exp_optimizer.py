"""The exp's optimizer over the trainer tests' toy model (a raw nn.Parameter in the head)."""

from __future__ import annotations

from toy_exp import Exp

from yolox.utils.optim import check_param_groups


def test_exp_optimizer_covers_toy_model():
    exp = Exp()
    optimizer = exp.get_optimizer(8)
    check_param_groups(exp.get_model(), optimizer.param_groups)
    assert any(p is exp.get_model().head.gamma for p in optimizer.param_groups[0]["params"])

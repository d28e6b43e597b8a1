"""Common random numbers: for one seed every attention variant is the baseline plus a module.

A study's paired differences are only as good as the pairing: the variant and the baseline of
one seed must start from the same base-network weights and see the same batches, so that the
difference measures the module and not a reshuffled initialisation. With ``init="identity"``
the attention model then starts as exactly the baseline's function (its outputs are equal, bit
for bit) and trains on the same first batch.
"""

from __future__ import annotations

import argparse

import pytest
import torch

from yolox.core.trainer import Trainer
from yolox.exp.synthetic import SyntheticExp
from yolox.models.attention import available_attention
from yolox.models.neck_attention import attention_init_seed

NINE = ["cam", "cbam", "eca", "ema", "gc", "sa", "se", "simam", "triplet"]


def test_the_nine_types_are_all_registered():
    assert sorted(available_attention()) == NINE


def _exp(tmp_path, attention, seed: int = 7) -> SyntheticExp:
    exp = SyntheticExp()
    exp.data_dir = str(tmp_path / "data")
    exp.synthetic_images = (8, 4)
    exp.input_size = exp.test_size = (64, 64)
    exp.random_size = (2, 2)
    exp.data_num_workers = 0
    exp.output_dir = str(tmp_path / "out")
    exp.max_epoch = 1
    exp.warmup_epochs = 0
    exp.no_aug_epochs = 0
    exp.seed = seed
    exp.attention = attention
    return exp


def _args(name: str) -> argparse.Namespace:
    from yolox.core.train_args import make_train_parser

    args = make_train_parser().parse_args(["-expn", name, "-b", "4", "--device", "cpu"])
    args.logger = "tensorboard"
    return args


def _started(tmp_path, attention, name: str):
    """A trainer at step 0 (seeded, model built, loader opened) and its first batch."""
    trainer = Trainer(_exp(tmp_path, attention), _args(name))
    trainer.before_train()
    inputs, targets = trainer.stream.next()
    trainer.tracker.close()
    return trainer, inputs, targets


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("crn")
    trainer, inputs, targets = _started(root, None, "none")
    return root, trainer.model, inputs, targets


@pytest.mark.parametrize("kind", NINE)
def test_identity_variant_is_the_baseline_at_step_zero(baseline, kind):
    root, base_model, base_inputs, base_targets = baseline
    trainer, inputs, targets = _started(root, {"type": kind, "init": "identity"}, kind)
    model = trainer.model

    # the same first batch, in the same order
    assert torch.equal(inputs, base_inputs) and torch.equal(targets, base_targets)
    # the same base-network weights, key for key (the attention keys are the only new ones)
    base_state, state = base_model.state_dict(), model.state_dict()
    assert set(base_state) < set(state)
    assert all(k.startswith("backbone.attention.") for k in set(state) - set(base_state))
    different = [k for k in base_state if not torch.equal(base_state[k], state[k])]
    assert different == []
    # hence exactly the baseline's outputs
    base_model.eval(), model.eval()
    images = base_inputs.float()
    with torch.no_grad():
        assert torch.equal(model(images), base_model(images))
    base_model.train(), model.train()


def test_attention_init_comes_from_its_own_seed_and_position():
    torch.manual_seed(3)
    first = attention_init_seed("dark3")
    torch.rand(5)  # draws from the global stream do not change it
    assert attention_init_seed("dark3") == first != attention_init_seed("dark4")
    torch.manual_seed(4)
    assert attention_init_seed("dark3") != first


def test_attention_modules_differ_across_seeds(tmp_path):
    """Own generator, still seeded: two seeds give two attention inits, one seed gives one."""

    def attention_weights(seed: int):
        torch.manual_seed(seed)
        model = _exp(tmp_path, "se", seed).get_model()
        return {k: v for k, v in model.state_dict().items() if ".attention." in k}

    a, b, again = attention_weights(1), attention_weights(2), attention_weights(1)
    assert all(torch.equal(a[k], again[k]) for k in a)
    assert any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())

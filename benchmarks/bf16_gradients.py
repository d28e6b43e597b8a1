"""How far bf16 autocast moves a training step's gradient from float32's, at initialisation and
on checkpoints of a run: the measurement behind "why from-scratch pairs differ" in
docs/training.md.

    python benchmarks/bf16_gradients.py -f exps/example/yolox_nano_synthetic.py \\
        -c init YOLOX_outputs/yolox_nano_synthetic/epoch_5_ckpt.pth \\
           YOLOX_outputs/yolox_nano_synthetic/epoch_15_ckpt.pth

For each model state (``init``: the exp's fresh model, seeded; else a checkpoint's weights) it
takes one training batch of the exp (mosaic as training does, seeded), computes the full YOLOX
loss and its gradient once in float32 and once under bf16 autocast (channels-last, as the
trainer runs on CPU), and prints the cosine between the two gradients, their relative
difference and norms, and the parameters with the largest float32 gradient. ``--per-op``
also feeds every convolution and BatchNorm the same float32 input and output gradient in both
precisions: the error of each operation alone, without the composition.
"""

from __future__ import annotations

import argparse
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from yolox.exp import get_exp
from yolox.utils.precision import cpu_description


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--exp_file", required=True)
    parser.add_argument("-c", "--ckpt", nargs="+", default=["init"], help="'init' or checkpoints")
    parser.add_argument("-b", "--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-op", action="store_true", help="also each operation alone")
    return parser


def _batch(exp, batch_size: int, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    exp.data_num_workers = 0
    loader = exp.get_data_loader(batch_size=batch_size, is_distributed=False, no_aug=False)
    inps, targets = next(iter(loader))[:2]
    inps, targets = exp.preprocess(inps, targets, exp.input_size)
    return inps.contiguous(memory_format=torch.channels_last), targets


def _gradient(model: nn.Module, inps, targets, bf16: bool) -> Tuple[torch.Tensor, float]:
    """The flattened gradient of the total loss, and the loss; BatchNorm buffers are restored."""
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(inps, targets)["total_loss"]
    loss.backward()
    model.load_state_dict(buffers)
    grads = [p.grad.flatten() for p in model.parameters() if p.grad is not None]
    return torch.cat(grads), float(loss.detach())


def _largest(model: nn.Module, inps, targets, count: int = 3) -> List[Tuple[float, str]]:
    _gradient(model, inps, targets, bf16=False)
    norms = [(float(p.grad.norm()), n) for n, p in model.named_parameters() if p.grad is not None]
    return sorted(norms, reverse=True)[:count]


def per_op_errors(model: nn.Module, inps: torch.Tensor) -> Dict[str, float]:
    """Largest relative error, bf16 against float32, of each conv/BN alone (output, weight
    gradient and input gradient), each fed the float32 network's own input."""
    inputs: Dict[str, torch.Tensor] = {}
    modules = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))}

    def keep(name):
        def hook(_module, args, _output) -> None:
            inputs.setdefault(name, args[0].detach().clone())

        return hook

    hooks = [m.register_forward_hook(keep(n)) for n, m in modules.items()]
    with torch.no_grad():
        model.head._level_outputs(model.backbone(inps))
    for hook in hooks:
        hook.remove()
    worst = {"output": 0.0, "weight gradient": 0.0, "input gradient": 0.0}
    for name, x in inputs.items():
        module = modules[name]
        results = []
        for bf16 in (False, True):
            module.zero_grad(set_to_none=True)
            leaf = x.clone().requires_grad_(True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = module(leaf)
            upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
            out.float().backward(upstream)
            results.append((out.detach().float(), module.weight.grad.clone(), leaf.grad.clone()))
        for key, ref, got in zip(worst, results[0], results[1]):
            worst[key] = max(worst[key], float((ref - got).norm() / ref.norm()))
    return worst


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    cpu = cpu_description()
    print(f"CPU: {cpu['cpu']} (flags: {', '.join(cpu['cpu_flags'])}), torch {torch.__version__}")
    for source in args.ckpt:
        exp = get_exp(args.exp_file)
        torch.manual_seed(args.seed)
        model = exp.get_model()
        if source != "init":
            state = torch.load(source, map_location="cpu", weights_only=False)
            model.load_state_dict(state["model"])
        model.train().to(memory_format=torch.channels_last)
        inps, targets = _batch(exp, args.batch_size, args.seed)
        fp32, loss32 = _gradient(model, inps, targets, bf16=False)
        bf16, loss16 = _gradient(model, inps, targets, bf16=True)
        cosine = float(nn.functional.cosine_similarity(fp32, bf16, dim=0))
        relative = float((fp32 - bf16).norm() / fp32.norm())
        print(
            f"{source}: loss fp32 {loss32:.4f} bf16 {loss16:.4f}; gradient cosine {cosine:.4f}, "
            f"relative difference {relative:.4f}, norm fp32 {float(fp32.norm()):.1f} "
            f"bf16 {float(bf16.norm()):.1f}"
        )
        largest = ", ".join(f"{n} {v:.1f}" for v, n in _largest(model, inps, targets))
        print(f"  largest float32 gradients: {largest}")
        if args.per_op:
            worst = per_op_errors(model, inps)
            print(
                "  each conv/BN alone, worst relative error: "
                + ", ".join(f"{k} {v:.4f}" for k, v in worst.items())
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

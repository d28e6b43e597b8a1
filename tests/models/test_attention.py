"""Tests for yolox.models.attention against slow, independent float64 numpy references."""

from __future__ import annotations

import ast
import io
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from yolox.models.attention import (
    ATTENTION_REGISTRY,
    IdentityStart,
    available_attention,
    build_attention,
    eca_kernel_size,
    normalize_attention_spec,
    register_attention,
)

ALL_TYPES = ["cam", "cbam", "eca", "ema", "gc", "sa", "se", "simam", "triplet"]
# neck widths of yolox nano (64/128/256), s (128/256/512) and x (320/640/1280)
WIDTHS = [64, 128, 256, 320, 512, 640, 1280]
BLOG_CAM = {"type": "cam", "act": "mish", "norm": None, "bias": False, "min_mip": 0}
BLOG_SE = {"type": "se", "bias": False}
BLOG_CBAM = {"type": "cbam", "ratio": 8, "bias": False, "norm": False}
VARIANTS = [
    BLOG_CAM,
    BLOG_SE,
    BLOG_CBAM,
    {"type": "gc", "fusion": "mul"},
    {"type": "gc", "pooling": "avg"},
    {"type": "triplet", "no_spatial": True},
    {"type": "cbam", "ratio": 8},
]
SPECS = [{"type": t} for t in ALL_TYPES] + VARIANTS


def _spec_id(spec: dict) -> str:
    return "-".join(f"{v}" for v in spec.values())


def _randomize_norms(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN/GN/LN statistics and affine parameters so references are meaningful."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


# ------------------------------------------------------------------ numpy reference helpers


def sig(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def npy(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def conv1x1_ref(w: torch.Tensor, b: torch.Tensor | None, z: np.ndarray) -> np.ndarray:
    """1x1 conv on z [B, Cin, ...] by an explicit matrix product over the channel axis."""
    out = np.einsum("oc,bc...->bo...", npy(w)[:, :, 0, 0], z)
    if b is not None:
        out = out + npy(b).reshape((1, -1) + (1,) * (z.ndim - 2))
    return out


def conv2d_ref(z: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    """Stride-1 zero-padded cross-correlation by shift-and-add: z [B,Ci,H,W], w [Co,Ci,k,k]."""
    b, _, h, wd = z.shape
    k = w.shape[-1]
    zp = np.pad(z, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((b, w.shape[0], h, wd))
    for o in range(w.shape[0]):
        for i in range(w.shape[1]):
            for u in range(k):
                for v in range(k):
                    out[:, o] += w[o, i, u, v] * zp[:, i, u : u + h, v : v + wd]
    return out


def bn_eval_ref(z: np.ndarray, bn: nn.BatchNorm2d) -> np.ndarray:
    shape = (1, -1) + (1,) * (z.ndim - 2)
    mean, var = npy(bn.running_mean).reshape(shape), npy(bn.running_var).reshape(shape)
    return (z - mean) / np.sqrt(var + bn.eps) * npy(bn.weight).reshape(shape) + npy(
        bn.bias
    ).reshape(shape)


def hswish(z: np.ndarray) -> np.ndarray:
    return z * np.clip(z + 3.0, 0.0, 6.0) / 6.0


def mish(z: np.ndarray) -> np.ndarray:
    return z * np.tanh(np.log1p(np.exp(z)))


def cam_ref(m: nn.Module, x: np.ndarray, act, train_bn: bool = False) -> np.ndarray:
    """Coordinate attention from the paper's equations, with explicit loops for the pools."""
    b, c, h, w = x.shape
    zh = np.stack([x[:, :, i, :].mean(axis=-1) for i in range(h)], axis=-1)  # [B, C, H]
    zw = np.stack([x[:, :, :, j].mean(axis=-1) for j in range(w)], axis=-1)  # [B, C, W]
    f = conv1x1_ref(m.conv1.weight, m.conv1.bias, np.concatenate([zh, zw], axis=-1))
    if isinstance(m.bn1, nn.BatchNorm2d):
        if train_bn:  # batch statistics over batch and the joint H+W strip, biased variance
            mu = f.mean(axis=(0, 2), keepdims=True)
            var = f.var(axis=(0, 2), keepdims=True)
            f = (f - mu) / np.sqrt(var + m.bn1.eps) * npy(m.bn1.weight)[None, :, None] + npy(
                m.bn1.bias
            )[None, :, None]
        else:
            f = bn_eval_ref(f, m.bn1)
    f = act(f)
    gh = sig(conv1x1_ref(m.conv_h.weight, m.conv_h.bias, f[:, :, :h]))  # [B, C, H]
    gw = sig(conv1x1_ref(m.conv_w.weight, m.conv_w.bias, f[:, :, h:]))  # [B, C, W]
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[:, :, i, j] = x[:, :, i, j] * gh[:, :, i] * gw[:, :, j]
    return out


def bias_ref(conv: nn.Module) -> np.ndarray:
    """A conv's bias, or zeros when it was built without one."""
    return np.zeros(conv.out_channels) if conv.bias is None else npy(conv.bias)


def se_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    s = x.mean(axis=(2, 3))
    hid = np.maximum(npy(m.fc1.weight)[:, :, 0, 0] @ s.T + bias_ref(m.fc1)[:, None], 0)
    a = sig(npy(m.fc2.weight)[:, :, 0, 0] @ hid + bias_ref(m.fc2)[:, None]).T
    return x * a[:, :, None, None]


def eca_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    s = x.mean(axis=(2, 3))
    k = npy(m.conv.weight).reshape(-1)
    p = (len(k) - 1) // 2
    y = np.zeros_like(s)
    for c in range(s.shape[1]):
        for t in range(len(k)):
            src = c + t - p
            if 0 <= src < s.shape[1]:
                y[:, c] += k[t] * s[:, src]
    return x * sig(y)[:, :, None, None]


def spatial_gate_ref(gate: nn.Module, plane_max: np.ndarray, plane_mean: np.ndarray) -> np.ndarray:
    """Gate map sigmoid(BN(conv([max, mean]))) for a [B, P, Q] plane."""
    z = np.stack([plane_max, plane_mean], axis=1)
    w = npy(gate.conv.weight)
    y = conv2d_ref(z, w, (w.shape[-1] - 1) // 2)
    if isinstance(gate.bn, nn.BatchNorm2d):
        y = bn_eval_ref(y, gate.bn)
    return sig(y)[:, 0]


def cbam_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    conv1, conv2 = m.channel_gate.mlp[0], m.channel_gate.mlp[2]

    def mlp(v: np.ndarray) -> np.ndarray:
        hid = np.maximum(v @ npy(conv1.weight)[:, :, 0, 0].T + bias_ref(conv1), 0)
        return hid @ npy(conv2.weight)[:, :, 0, 0].T + bias_ref(conv2)

    a = sig(mlp(x.mean(axis=(2, 3))) + mlp(x.max(axis=(2, 3))))
    x1 = x * a[:, :, None, None]
    g = spatial_gate_ref(m.spatial_gate, x1.max(axis=1), x1.mean(axis=1))
    return x1 * g[:, None]


def simam_ref(x: np.ndarray, lam: float = 1e-4) -> np.ndarray:
    """The paper's minimal energy, channel by channel in float64:
    e_t = 4 (s2 + l) / ((t - mu)^2 + 2 s2 + 2 l), s2 = sum (x_i - mu)^2 / M with M = H*W - 1
    (1 when the map has one value), and out = x * sigmoid(1 / e_t)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    b, c, h, w = x.shape
    m = max(h * w - 1, 1)
    for i in range(b):
        for j in range(c):
            t = x[i, j]
            mu = t.sum() / (h * w)
            s2 = ((t - mu) ** 2).sum() / m
            energy = 4 * (s2 + lam) / ((t - mu) ** 2 + 2 * s2 + 2 * lam)
            out[i, j] = t * sig(1.0 / energy)
    return out


def gc_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    b, c, h, w = x.shape
    flat = x.reshape(b, c, h * w)
    logits = np.einsum("c,bcp->bp", npy(m.conv_mask.weight).reshape(-1), flat)
    att = np.exp(logits - logits.max(axis=1, keepdims=True))
    att /= att.sum(axis=1, keepdims=True)
    ctx = np.einsum("bcp,bp->bc", flat, att)
    c1, ln, c2 = m.transform[0], m.transform[1], m.transform[3]
    t = ctx @ npy(c1.weight)[:, :, 0, 0].T + npy(c1.bias)
    t = (t - t.mean(axis=1, keepdims=True)) / np.sqrt(t.var(axis=1, keepdims=True) + ln.eps)
    t = np.maximum(t * npy(ln.weight).reshape(-1) + npy(ln.bias).reshape(-1), 0)
    t = t @ npy(c2.weight)[:, :, 0, 0].T + npy(c2.bias)
    return x + t[:, :, None, None]


def triplet_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    """Each branch pools one axis away and gates the remaining plane."""
    g_cw = spatial_gate_ref(m.cw, x.max(axis=2), x.mean(axis=2))  # plane (C, W), pooled over H
    g_hc = spatial_gate_ref(
        m.hc, x.max(axis=3).transpose(0, 2, 1), x.mean(axis=3).transpose(0, 2, 1)
    )
    g_hw = spatial_gate_ref(m.hw, x.max(axis=1), x.mean(axis=1))  # plane (H, W), pooled over C
    out_cw = x * g_cw[:, :, None, :]
    out_hc = x * g_hc.transpose(0, 2, 1)[:, :, :, None]  # plane (H, C) -> gate at [c, h]
    out_hw = x * g_hw[:, None]
    return (out_cw + out_hc + out_hw) / 3.0


def _gn_per_channel(z: np.ndarray, gn: nn.GroupNorm) -> np.ndarray:
    """GroupNorm with one channel per group on z [Cg, H, W]."""
    mu = z.mean(axis=(1, 2), keepdims=True)
    var = z.var(axis=(1, 2), keepdims=True)
    return (z - mu) / np.sqrt(var + gn.eps) * npy(gn.weight)[:, None, None] + npy(gn.bias)[
        :, None, None
    ]


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def ema_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    """EMA as in the official algorithm: per sample and group, joint H+W strip, split, matmuls."""
    b, c, h, w = x.shape
    groups = m.groups
    cg = c // groups
    w1, b1 = npy(m.conv1x1.weight)[:, :, 0, 0], npy(m.conv1x1.bias)
    w3, b3 = npy(m.conv3x3.weight), npy(m.conv3x3.bias)
    out = np.empty_like(x)
    for n in range(b):
        for g in range(groups):
            gx = x[n, g * cg : (g + 1) * cg]  # [cg, H, W]
            strip = np.concatenate([gx.mean(axis=2), gx.mean(axis=1)], axis=1)  # [cg, H+W]
            strip = w1 @ strip + b1[:, None]
            sh, sw = sig(strip[:, :h]), sig(strip[:, h:])
            x1 = _gn_per_channel(gx * sh[:, :, None] * sw[:, None, :], m.gn)
            x2 = conv2d_ref(gx[None], w3, 1)[0] + b3[:, None, None]
            x11 = _softmax(x1.mean(axis=(1, 2)))
            x21 = _softmax(x2.mean(axis=(1, 2)))
            weights = x11 @ x2.reshape(cg, -1) + x21 @ x1.reshape(cg, -1)
            out[n, g * cg : (g + 1) * cg] = gx * sig(weights.reshape(h, w))[None]
    return out


def sa_ref(m: nn.Module, x: np.ndarray) -> np.ndarray:
    b, c, h, w = x.shape
    cpg = c // m.groups
    half = cpg // 2
    cw, cb = npy(m.cweight).reshape(-1), npy(m.cbias).reshape(-1)
    sw, sb = npy(m.sweight).reshape(-1), npy(m.sbias).reshape(-1)
    pre = np.empty_like(x)
    for n in range(b):
        for g in range(m.groups):
            x0 = x[n, g * cpg : g * cpg + half]
            x1 = x[n, g * cpg + half : (g + 1) * cpg]
            xn = x0 * sig(
                cw[:, None, None] * x0.mean(axis=(1, 2), keepdims=True) + cb[:, None, None]
            )
            xs = x1 * sig(sw[:, None, None] * _gn_per_channel(x1, m.gn) + sb[:, None, None])
            pre[n, g * cpg : (g + 1) * cpg] = np.concatenate([xn, xs], axis=0)
    out = np.empty_like(x)
    for i in range(2):  # channel shuffle with 2 groups: out[j * 2 + i] = pre[i * C/2 + j]
        for j in range(c // 2):
            out[:, j * 2 + i] = pre[:, i * (c // 2) + j]
    return out


# ------------------------------------------------------------------ registry and builder


def test_registry_lists_every_type_and_aliases() -> None:
    assert available_attention() == ALL_TYPES
    assert set(ATTENTION_REGISTRY) == set(ALL_TYPES)
    for alias, canonical in [("ca", "cam"), ("CoordAtt", "cam"), ("shuffle", "sa"), ("SE", "se")]:
        assert normalize_attention_spec(alias) == {"type": canonical}
    assert normalize_attention_spec(None) is None
    assert normalize_attention_spec("none") is None
    spec = {"type": "ca", "reduction": 16, "init": "identity"}
    assert normalize_attention_spec(spec) == {"type": "cam", "reduction": 16, "init": "identity"}
    assert spec["type"] == "ca"  # input not mutated
    assert normalize_attention_spec({"type": "se", "init": "default"}) == {"type": "se"}
    assert isinstance(build_attention(None, 64), nn.Identity)


def test_dict_options_reach_the_module() -> None:
    m = build_attention({"type": "cbam", "ratio": 8}, 64)
    assert m.channel_gate.mlp[0].out_channels == 8
    assert build_attention({"type": "eca", "k_size": 7}, 64).conv.kernel_size == (7,)
    assert build_attention({"type": "sa", "groups": 8}, 64).groups == 8


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"unknown attention type 'nope'.*cbam.*triplet"):
        build_attention("nope", 64)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['foo'\].*valid options: ratio"):
        build_attention({"type": "cbam", "foo": 1}, 64)
    with pytest.raises(ValueError, match="init"):
        build_attention({"type": "se", "init": "zeros"}, 64)
    with pytest.raises(ValueError, match="type"):
        build_attention({"ratio": 8}, 64)
    with pytest.raises(ValueError, match=r"divisible by 2 \* groups.*channels=64, groups=64"):
        build_attention({"type": "sa", "groups": 64}, 64)
    with pytest.raises(ValueError, match="divisible by 2 \\* groups.*channels=63"):
        build_attention("sa", 63)
    with pytest.raises(ValueError, match=r"divisible by groups.*channels=64, groups=24"):
        build_attention({"type": "ema", "groups": 24}, 64)
    with pytest.raises(ValueError, match="odd"):
        build_attention({"type": "eca", "k_size": 4}, 64)
    with pytest.raises(ValueError, match="mip"):
        build_attention({"type": "cam", "min_mip": 0}, 16)
    with pytest.raises(ValueError, match="channels"):
        build_attention("se", 0)
    with pytest.raises(ValueError, match="already registered"):
        register_attention("se")(nn.Identity)


def test_default_groups_adapt_to_channels() -> None:
    # official defaults 64 (sa) and 32 (ema); nano's 64-channel level cannot hold 64 sa groups
    assert [build_attention("sa", c).groups for c in (64, 128, 320, 1280)] == [32, 64, 40, 64]
    assert [build_attention("ema", c).groups for c in (64, 320, 1280)] == [32, 32, 32]
    assert build_attention("ema", 48).groups == 24


@pytest.mark.parametrize(
    "channels,expected",
    [
        (8, 3),
        (16, 3),
        (64, 3),
        (128, 5),
        (256, 5),
        (320, 5),
        (512, 5),
        (1024, 5),
        (1280, 5),
        (2048, 7),
    ],
)
def test_eca_kernel_size_formula(channels: int, expected: int) -> None:
    # by hand: t = int(|(log2 C + 1) / 2|), made odd; e.g. C=128 -> 4 -> 5, C=2048 -> 6 -> 7
    assert eca_kernel_size(channels) == expected
    assert build_attention("eca", channels).conv.kernel_size == (expected,)


@pytest.mark.parametrize(
    "channels,mip,blog_mip", [(64, 8, 2), (256, 8, 8), (512, 16, 16), (1280, 40, 40)]
)
def test_cam_mip_and_blog_variant(channels: int, mip: int, blog_mip: int) -> None:
    assert build_attention("cam", channels).conv1.out_channels == mip
    blog = build_attention(BLOG_CAM, channels)
    assert blog.conv1.out_channels == blog_mip
    assert not any(isinstance(m, nn.BatchNorm2d) for m in blog.modules())
    assert isinstance(blog.act, nn.Mish)
    assert all(m.bias is None for m in blog.modules() if isinstance(m, nn.Conv2d))
    official = build_attention("cam", channels)
    assert isinstance(official.act, nn.Hardswish) and isinstance(official.bn1, nn.BatchNorm2d)


# ------------------------------------------------------------------ forward / backward


@pytest.mark.parametrize("channels", WIDTHS)
@pytest.mark.parametrize("name", ALL_TYPES)
def test_forward_backward_all_widths(name: str, channels: int) -> None:
    torch.manual_seed(0)
    m = build_attention(name, channels).train()
    x = torch.randn(2, channels, 6, 5, requires_grad=True)
    y = m(x)
    assert y.shape == x.shape
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all()
    for k, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), k


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_batch_one_train_mode_2x2(spec: dict) -> None:
    m = build_attention(spec, 64).train()
    x = torch.randn(1, 64, 2, 2, requires_grad=True)
    m(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def _grads_reach_every_parameter(m: nn.Module, steps: int = 4) -> set[str]:
    """Names of parameters that got a nonzero gradient within ``steps`` SGD steps."""
    torch.manual_seed(1)
    x = torch.randn(2, 64, 6, 5)
    target = torch.randn(2, 64, 6, 5)
    params = list(m.parameters())
    if not params:  # parameter-free (simam with default init)
        return set()
    opt = torch.optim.SGD(params, lr=0.1)
    reached = set()
    for _ in range(steps):
        opt.zero_grad()
        (m(x) * target).sum().backward()
        reached |= {
            k for k, p in m.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0
        }
        opt.step()
    return reached


@pytest.mark.parametrize("init", ["default", "identity"])
@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_every_parameter_trains(spec: dict, init: str) -> None:
    m = build_attention({**spec, "init": init}, 64).train()
    names = {k for k, _ in m.named_parameters()}
    assert _grads_reach_every_parameter(m) == names


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_identity_init_is_exact_and_gate_learns_at_step_zero(spec: dict) -> None:
    torch.manual_seed(0)
    m = build_attention({**spec, "init": "identity"}, 128)
    _randomize_norms(m)
    x = torch.randn(2, 128, 6, 5) * 3
    for mode in (True, False):
        m.train(mode)
        with torch.no_grad():
            y = m(x)
        assert torch.equal(y.view(torch.int32), x.view(torch.int32))  # bitwise
    if isinstance(m, IdentityStart):
        keys = list(m.state_dict())
        assert keys[0] == "gamma" and all(k.startswith("attn.") for k in keys[1:])
        m.train()
        (m(x) * torch.randn_like(x)).sum().backward()
        assert m.gamma.grad.abs() > 0
    else:  # gc with add fusion: its own zero-initialised last conv already gives identity
        assert spec["type"] == "gc" and m.fusion == "add"
        assert "gamma" not in m.state_dict()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_half_precision_forward_cpu(spec: dict, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    m = build_attention(spec, 64).eval()
    _randomize_norms(m)
    x = torch.randn(2, 64, 6, 5)
    with torch.no_grad():
        ref = m(x)
        out = m.to(dtype)(x.to(dtype))
    assert out.dtype == dtype and torch.isfinite(out).all()
    tol = 5e-2 if dtype == torch.bfloat16 else 1e-2
    torch.testing.assert_close(out.float(), ref, atol=tol, rtol=tol)


# ------------------------------------------------------------------ references


def _check_ref(m: nn.Module, ref_fn, x: torch.Tensor) -> None:
    m = m.double().eval()
    with torch.no_grad():
        out = m(x.double()).numpy()
    np.testing.assert_allclose(out, ref_fn(m, x.double().numpy()), rtol=1e-9, atol=1e-10)


@pytest.fixture
def x64() -> torch.Tensor:
    torch.manual_seed(3)
    return torch.randn(2, 64, 6, 5) * 2 + 0.3  # non-square: catches H/W mix-ups


def test_cam_matches_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    m = build_attention("cam", 64)
    _randomize_norms(m)
    _check_ref(m, lambda mm, x: cam_ref(mm, x, hswish), x64)
    # train mode: BN statistics over the joint H+W strip of the whole batch
    m.train()
    with torch.no_grad():
        out = m(x64.double()).numpy()
    np.testing.assert_allclose(
        out, cam_ref(m, x64.double().numpy(), hswish, True), rtol=1e-9, atol=1e-10
    )


def test_cam_blog_variant_matches_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    _check_ref(build_attention(BLOG_CAM, 64), lambda mm, x: cam_ref(mm, x, mish), x64)


def test_seed_blog_se_and_cbam_match_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    se = build_attention(BLOG_SE, 64)
    assert se.fc1.bias is None and se.fc2.bias is None
    _check_ref(se, se_ref, x64)
    cbam = build_attention(BLOG_CBAM, 64)
    assert cbam.channel_gate.mlp[0].out_channels == 8  # ratio 8
    assert not any(isinstance(m, nn.BatchNorm2d) for m in cbam.modules())
    assert all(m.bias is None for m in cbam.modules() if isinstance(m, nn.Conv2d))
    _check_ref(cbam, cbam_ref, x64)


def test_docs_seed_blog_table_specs_build() -> None:
    """Every spec in docs/attention.md's seed blog table is valid and matches the tested ones."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "attention.md").read_text()
    section = docs.split("### Seed blog variants", 1)[1].split("\n### ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    specs = [ast.literal_eval(m) for m in re.findall(r"`(\{[^`]*\})`", table)]
    assert specs and all(build_attention(s, 64) is not None for s in specs)
    assert BLOG_CAM in specs and BLOG_SE in specs and BLOG_CBAM in specs


def test_se_eca_cbam_simam_match_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    _check_ref(build_attention("se", 64), se_ref, x64)
    _check_ref(build_attention("eca", 64), eca_ref, x64)
    cbam = build_attention("cbam", 64)
    _randomize_norms(cbam)
    _check_ref(cbam, cbam_ref, x64)
    _check_ref(build_attention("simam", 64), lambda mm, x: simam_ref(x), x64)


def test_gc_matches_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    m = build_attention("gc", 64)
    assert m.transform[-1].weight.abs().sum() == 0  # zero-init last conv (paper)
    with torch.no_grad():  # make the transform non-trivial
        m.transform[-1].weight.normal_(0, 0.2)
        m.transform[-1].bias.normal_(0, 0.2)
    _randomize_norms(m)
    _check_ref(m, gc_ref, x64)


def test_triplet_ema_sa_match_reference(x64: torch.Tensor) -> None:
    torch.manual_seed(0)
    trip = build_attention("triplet", 64)
    _randomize_norms(trip)
    _check_ref(trip, triplet_ref, x64)
    ema = build_attention({"type": "ema", "groups": 8}, 64)
    _randomize_norms(ema)
    _check_ref(ema, ema_ref, x64)
    sa = build_attention({"type": "sa", "groups": 4}, 64)
    _randomize_norms(sa)
    with torch.no_grad():  # official init is weights 0 / biases 1: randomize to test the gates
        for p in (sa.cweight, sa.cbias, sa.sweight, sa.sbias):
            p.normal_()
    _check_ref(sa, sa_ref, x64)


@pytest.mark.parametrize("shape", [(2, 3, 6, 5), (1, 4, 1, 7), (1, 2, 2, 1), (2, 3, 1, 1)])
def test_simam_divides_by_hw_minus_one_like_the_paper(shape) -> None:
    torch.manual_seed(1)
    x = torch.randn(*shape, dtype=torch.float64) * 3 + 0.5
    with torch.no_grad():
        out = build_attention({"type": "simam", "e_lambda": 1e-3}, shape[1])(x)
    np.testing.assert_allclose(out.numpy(), simam_ref(x.numpy(), 1e-3), rtol=1e-12, atol=1e-12)
    if shape[2] * shape[3] > 1:  # dividing by H*W instead would be measurably different
        m = shape[2] * shape[3]
        d2 = (x - x.mean((2, 3), keepdim=True)) ** 2
        by_hw = x * torch.sigmoid(d2 / (4 * (d2.sum((2, 3), keepdim=True) / m + 1e-3)) + 0.5)
        assert not torch.allclose(out, by_hw, rtol=1e-6, atol=1e-9)


def test_simam_float16_is_finite_on_1x1_and_large_inputs() -> None:
    m = build_attention("simam", 64)
    one = torch.randn(2, 64, 1, 1).half()
    out = m(one)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, one * torch.sigmoid(torch.tensor(0.5)).half())
    big = (torch.rand(2, 64, 8, 8) * 2 - 1) * 60000  # (x - mu)^2 would overflow float16
    big = big.half()
    out = m(big)
    assert torch.isfinite(out).all()
    ref = simam_ref(big.double().numpy())
    np.testing.assert_allclose(out.double().numpy(), ref, rtol=2e-3, atol=1.0)
    assert torch.isfinite(m(torch.randn(2, 64, 1, 1))).all()  # float32 1x1: no 0/0


# ------------------------------------------------------------------ fusion and export


@pytest.mark.parametrize("spec", SPECS + [{"type": "cam", "init": "identity"}], ids=_spec_id)
def test_fuse_for_inference_keeps_eval_outputs(spec: dict) -> None:
    torch.manual_seed(0)
    m = build_attention(spec, 64)
    _randomize_norms(m)
    if isinstance(m, IdentityStart):
        with torch.no_grad():
            m.gamma.fill_(0.7)
    has_bn = any(isinstance(mm, nn.BatchNorm2d) for mm in m.modules())
    assert hasattr(m, "fuse_for_inference") or not has_bn
    if not has_bn:
        return
    m.eval()
    x = torch.randn(2, 64, 6, 5)
    with torch.no_grad():
        before = m(x)
        m.fuse_for_inference()
        m.fuse_for_inference()  # idempotent
        after = m(x)
    assert not any(isinstance(mm, nn.BatchNorm2d) for mm in m.modules())
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "spec", ["cam", "ema", "sa", "triplet", "simam", {"type": "gc", "fusion": "mul"}]
)
def test_onnx_dynamic_spatial_size(spec) -> None:
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    m = build_attention(spec, 64).eval()
    _randomize_norms(m)
    buf = io.BytesIO()
    # the TorchScript exporter: torch >= 2.5 takes dynamo=, which defaults to True from 2.9
    legacy = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            m,
            (torch.randn(1, 64, 8, 8),),
            buf,
            **legacy,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "b", 2: "h", 3: "w"}, "y": {0: "b", 2: "h", 3: "w"}},
            opset_version=17,
        )
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 64, 7, 11)
    (got,) = sess.run(None, {"x": x.numpy()})
    with torch.no_grad():
        want = m(x).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_reference_helpers_are_sane() -> None:
    # the shift-and-add conv against a hand-computed 3x3 case
    z = np.arange(9, dtype=float).reshape(1, 1, 3, 3)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 2] = 1.0  # picks the right neighbour
    assert np.array_equal(conv2d_ref(z, w, 1)[0, 0], [[1, 2, 0], [4, 5, 0], [7, 8, 0]])
    assert math.isclose(float(mish(np.array(1.0))), 1.0 * math.tanh(math.log1p(math.e)))

"""Plug-in attention modules for the YOLOX neck, behind one registry and one builder.

Every module maps ``[B, C, H, W] -> [B, C, H, W]`` and takes ``channels`` first, keyword options
after, so a spec such as ``"cbam"`` or ``{"type": "cbam", "ratio": 8}`` fully describes it.

Export rules followed by every module (so ONNX graphs traced with dynamic H/W stay correct):
pooling is ``mean``/``amax`` over explicit dims (never an adaptive pool with a computed size),
and group reshapes use ``unflatten``/``flatten`` on the channel/batch dims only, with no Python
ints taken from the input's spatial shape (the one exception, coordinate attention's split of
the joint H+W strip, reads sizes the tracer records symbolically).

``init="identity"`` (handled by :func:`build_attention`) wraps a module in :class:`IdentityStart`
so a network can be extended with attention without changing its initial function.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Dict, List, Optional, Type, Union

import torch
from loguru import logger
from torch import nn

from yolox.models.network_blocks import get_activation
from yolox.utils.errors import UserError
from yolox.utils.model_utils import fuse_conv_and_bn

__all__ = [
    "ATTENTION_REGISTRY",
    "ATTENTION_INITS",
    "register_attention",
    "available_attention",
    "normalize_attention_spec",
    "build_attention",
    "IdentityStart",
    "CoordAttention",
    "SqueezeExcitation",
    "ECA",
    "CBAM",
    "SimAM",
    "GlobalContext",
    "TripletAttention",
    "EMA",
    "ShuffleAttention",
    "eca_kernel_size",
    "coord_mip",
]

AttentionSpec = Union[None, str, Dict[str, Any]]

#: canonical name -> module class
ATTENTION_REGISTRY: Dict[str, Type[nn.Module]] = {}
#: every accepted name (canonical names and aliases, lower case) -> canonical name
_NAME_TO_CANONICAL: Dict[str, str] = {}
#: values of the generic ``init`` spec key
ATTENTION_INITS = ("default", "identity")


def register_attention(name: str, *aliases: str) -> Callable[[Type[nn.Module]], Type[nn.Module]]:
    """Class decorator adding an attention module under ``name`` (and ``aliases``) to the registry."""

    def decorator(cls: Type[nn.Module]) -> Type[nn.Module]:
        keys = [k.lower() for k in (name, *aliases)]
        for key in keys:
            if key in _NAME_TO_CANONICAL:
                raise ValueError(f"attention name {key!r} is already registered")
        if "channels" not in inspect.signature(cls.__init__).parameters:
            raise TypeError(f"{cls.__name__}.__init__ must take `channels` as its first argument")
        ATTENTION_REGISTRY[keys[0]] = cls
        for key in keys:
            _NAME_TO_CANONICAL[key] = keys[0]
        return cls

    return decorator


def available_attention() -> List[str]:
    """Canonical names of all registered attention modules, sorted."""
    return sorted(ATTENTION_REGISTRY)


def _canonical_name(name: str) -> str:
    key = name.strip().lower()
    if key not in _NAME_TO_CANONICAL:
        aliases = {
            c: sorted(k for k, v in _NAME_TO_CANONICAL.items() if v == c and k != c)
            for c in available_attention()
        }
        listing = ", ".join(
            f"{c} (aliases: {', '.join(a)})" if a else c for c, a in aliases.items()
        )
        raise UserError(f"unknown attention type {name!r}; valid types: {listing}")
    return _NAME_TO_CANONICAL[key]


def _constructor_options(cls: Type[nn.Module]) -> List[str]:
    """Keyword options of a module's constructor (everything after ``channels``)."""
    params = inspect.signature(cls.__init__).parameters
    skip = {"self", "channels"}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p for p, v in params.items() if p not in skip and v.kind in kinds]


def normalize_attention_spec(spec: AttentionSpec) -> Optional[Dict[str, Any]]:
    """Canonical dict form ``{"type": canonical_name, **options}`` of a spec, or None for none.

    Names are case-insensitive and aliases resolve to the canonical name; ``"none"``/``""`` (any
    case, also as a dict's ``type``) mean no attention (handy on a command line). ``init="default"`` is dropped since it is implied.
    Option *names* are checked here; option *values* are checked by the module at build time.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec.strip().lower() in ("", "none"):
            return None
        return {"type": _canonical_name(spec)}
    if not isinstance(spec, dict):
        raise UserError(f"attention spec must be None, a name or a dict, got {type(spec).__name__}")
    if "type" not in spec or not isinstance(spec["type"], str):
        raise UserError(f"attention spec dict needs a string 'type' key, got {spec!r}")
    if spec["type"].strip().lower() in ("", "none"):
        return None
    canonical = _canonical_name(spec["type"])
    options = {k: v for k, v in spec.items() if k != "type"}
    valid = _constructor_options(ATTENTION_REGISTRY[canonical])
    unknown = sorted(set(options) - set(valid) - {"init"})
    if unknown:
        raise UserError(
            f"unknown option(s) {unknown} for attention {canonical!r}; "
            f"valid options: {', '.join(valid + ['init'])}"
        )
    init = options.get("init", "default")
    if init not in ATTENTION_INITS:
        raise UserError(f"unknown attention init {init!r}; valid: {', '.join(ATTENTION_INITS)}")
    if init == "default":
        options.pop("init", None)
    return {"type": canonical, **options}


def build_attention(spec: AttentionSpec, channels: int) -> nn.Module:
    """Build the attention module described by ``spec`` for a ``channels``-wide feature map.

    A spec that means "no attention" (None, ``"none"``) gives ``nn.Identity()``.
    ``init="identity"`` returns the module wrapped in :class:`IdentityStart`, except for modules
    whose own default init already is an exact identity (``_identity_at_init``, e.g. ``gc`` with
    ``fusion="add"``): a zero gate there would receive zero gradient forever.
    """
    norm = normalize_attention_spec(spec)
    if norm is None:
        return nn.Identity()
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise UserError(f"channels must be a positive int, got {channels!r}")
    options = dict(norm)
    cls = ATTENTION_REGISTRY[options.pop("type")]
    init = options.pop("init", "default")
    module = cls(channels, **options)
    if init == "identity" and not getattr(module, "_identity_at_init", False):
        module = IdentityStart(module)
    return module


class IdentityStart(nn.Module):
    """Zero-initialised residual gate: ``out = x + gamma * (attn(x) - x)``, gamma a scalar = 0.

    At init the output equals the input exactly (``x + 0``; only a ``-0.0`` input may come out as
    ``+0.0``). gamma gets gradient ``<dL/dout, attn(x) - x>`` from the first step; the inner
    module's parameters receive gradient once gamma has moved away from 0 (one step later still
    for parameters behind the module's own zero-initialised weights). State dict keys are
    ``gamma`` and ``attn.<inner keys>``. gamma is not a ``.weight``/``.bias``: optimizers must
    group parameters by ``named_parameters()`` or it never trains.
    """

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(()))
        self.attn = attn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.gamma * (self.attn(x) - x)

    def fuse_for_inference(self) -> None:
        """Fold the inner module's BatchNorms (idempotent, so double calls are harmless)."""
        fuse = getattr(self.attn, "fuse_for_inference", None)
        if fuse is not None:
            fuse()


# ----------------------------------------------------------------------------- helpers


def _fold_bn(owner: nn.Module, conv_name: str, bn_name: str) -> None:
    """Replace ``owner.<conv_name>`` by its BN-folded version and the BN by nn.Identity.

    Does nothing once folded, so calling a module's ``fuse_for_inference`` twice is safe.
    """
    bn = getattr(owner, bn_name)
    if not isinstance(bn, nn.BatchNorm2d):
        return
    setattr(owner, conv_name, fuse_conv_and_bn(getattr(owner, conv_name), bn))
    setattr(owner, bn_name, nn.Identity())


def _check_positive(name: str, value: Any) -> None:
    """Reject anything but a positive int (bools included) with a message naming the option."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UserError(f"{name} must be a positive int, got {value!r}")


def _fit_groups(channels: int, groups: Optional[int], default: int, step: int, what: str) -> int:
    """Number of groups g with ``channels % (step * g) == 0``.

    An explicit ``groups`` must divide as is (ValueError otherwise); the default (``groups=None``)
    falls back to the largest fitting g <= ``default`` and logs the change.
    """
    need = f"channels must be divisible by {'2 * ' if step == 2 else ''}groups"
    if groups is not None:
        _check_positive(f"{what} groups", groups)
        if channels % (step * groups):
            raise UserError(f"{what}: {need}; got channels={channels}, groups={groups}")
        return groups
    for g in range(min(default, channels // step), 0, -1):
        if channels % (step * g) == 0:
            if g != default:
                logger.info(f"{what}: {channels} channels do not fit {default} groups, using {g}")
            return g
    raise UserError(f"{what}: {need}; no group count fits channels={channels}")


def _zpool(x: torch.Tensor) -> torch.Tensor:
    """Channel-wise max and mean stacked as 2 channels (CBAM's channel pool, triplet's Z-pool)."""
    return torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], dim=1)


def coord_mip(channels: int, reduction: int = 32, min_mip: int = 8) -> int:
    """Coordinate attention's bottleneck width ``max(min_mip, channels // reduction)``."""
    return max(min_mip, channels // reduction)


def eca_kernel_size(channels: int, gamma: float = 2.0, b: float = 1.0) -> int:
    """ECA's adaptive kernel: ``t = int(|log2(C) / gamma + b / gamma|)``, bumped to odd."""
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


# ----------------------------------------------------------------------------- modules


@register_attention("cam", "ca", "coordatt")
class CoordAttention(nn.Module):
    """Coordinate attention (Hou et al., CVPR 2021): direction-aware gates ``a_h`` and ``a_w``.

    Strips pooled along W and along H share one 1x1 conv C -> mip (+ BN + h-swish), are split
    and mapped back to C by two 1x1 convs; ``out = x * a_w * a_h``. Defaults follow the official
    code (reduction 32, ``mip = max(8, C // 32)``, conv biases on). The "seed blog" variant is
    ``act="mish", norm=False, bias=False, min_mip=0`` (no BN module is built then).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 32,
        min_mip: int = 8,
        act: str = "hswish",
        norm: Optional[bool] = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_positive("cam reduction", reduction)
        mip = coord_mip(channels, reduction, min_mip)
        if mip < 1:
            raise UserError(
                f"cam: mip = max(min_mip, channels // reduction) = {mip} < 1 "
                f"(channels={channels}, reduction={reduction}, min_mip={min_mip})"
            )
        self.mip = mip
        self.conv1 = nn.Conv2d(channels, mip, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(mip) if norm else nn.Identity()
        self.act = get_activation(act)
        self.conv_h = nn.Conv2d(mip, channels, 1, bias=bias)
        self.conv_w = nn.Conv2d(mip, channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_h = x.mean(3, keepdim=True)  # [B, C, H, 1]
        x_w = x.mean(2, keepdim=True).transpose(2, 3)  # [B, C, W, 1]
        # one joint strip so BN statistics cover both directions, as in the paper
        y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w], dim=2))))
        y_h, y_w = torch.split(y, [x_h.shape[2], x_w.shape[2]], dim=2)
        a_h = self.conv_h(y_h).sigmoid()  # [B, C, H, 1]
        a_w = self.conv_w(y_w.transpose(2, 3)).sigmoid()  # [B, C, 1, W]
        return x * a_w * a_h

    def fuse_for_inference(self) -> None:
        """Fold ``bn1`` into ``conv1`` (no-op without BN or when already folded)."""
        _fold_bn(self, "conv1", "bn1")


@register_attention("se")
class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018): channel gate from the global average.

    ``a = sigmoid(W2 relu(W1 mean_hw(x)))`` with a C -> C // ratio -> C bottleneck (FCs written
    as 1x1 convs, with biases as in the paper's code; ``bias=False`` is the seed blog's SE);
    ``out = x * a``.
    """

    def __init__(self, channels: int, ratio: int = 16, bias: bool = True) -> None:
        super().__init__()
        _check_positive("se ratio", ratio)
        hidden = max(1, channels // ratio)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=bias)
        self.act = get_activation("relu")
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * a.sigmoid()


@register_attention("eca")
class ECA(nn.Module):
    """Efficient channel attention (Wang et al., CVPR 2020): a 1-D conv across pooled channels.

    Kernel size ``k_size`` defaults to the paper's adaptive rule :func:`eca_kernel_size` with
    gamma=2, b=1 (odd); the conv has no bias, as in the official code.
    """

    def __init__(
        self, channels: int, k_size: Optional[int] = None, gamma: float = 2.0, b: float = 1.0
    ) -> None:
        super().__init__()
        if k_size is None:
            k_size = eca_kernel_size(channels, gamma, b)
        _check_positive("eca k_size", k_size)
        if k_size % 2 == 0:
            raise UserError(f"eca k_size must be odd so the output keeps C channels, got {k_size}")
        self.k_size = k_size
        self.conv = nn.Conv1d(1, 1, k_size, padding=(k_size - 1) // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.mean((2, 3)).unsqueeze(1))  # [B, 1, C]
        return x * y.transpose(1, 2).unsqueeze(-1).sigmoid()


class _CBAMChannelGate(nn.Module):
    """CBAM channel gate: shared MLP on average- and max-pooled descriptors, summed."""

    def __init__(self, channels: int, ratio: int, bias: bool = True) -> None:
        super().__init__()
        hidden = max(1, channels // ratio)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=bias),
            get_activation("relu"),
            nn.Conv2d(hidden, channels, 1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        att = self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True))
        return x * att.sigmoid()


class _SpatialGate(nn.Module):
    """Z-pool (channel max, channel mean) -> k x k conv (no bias) -> BN -> sigmoid gate.

    ``norm=False`` leaves the BN out (the papers' formula, and the seed blog's CBAM).
    """

    def __init__(self, kernel_size: int, norm: bool = True) -> None:
        super().__init__()
        _check_positive("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise UserError(f"kernel_size must be odd to keep the map size, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)
        # official code of both CBAM and triplet attention: eps 1e-5, momentum 0.01 (inside a
        # YOLOX model the official initialisation sets 1e-3 / 0.03, see docs/attention.md)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.bn(self.conv(_zpool(x))).sigmoid()


@register_attention("cbam")
class CBAM(nn.Module):
    """Convolutional block attention module (Woo et al., ECCV 2018): channel then spatial gate.

    Channel gate: ``sigmoid(MLP(avgpool) + MLP(maxpool))`` with C -> C // ratio -> C (MLP biases
    on, ``bias=False`` drops them). Spatial gate: ``sigmoid(BN(conv7x7([max_c, mean_c])))``; the
    BN is in the official code, not in the paper's formula (``norm=False`` drops it), and is
    folded by :meth:`fuse_for_inference`.
    """

    def __init__(
        self,
        channels: int,
        ratio: int = 16,
        kernel_size: int = 7,
        bias: bool = True,
        norm: bool = True,
    ) -> None:
        super().__init__()
        _check_positive("cbam ratio", ratio)
        self.channel_gate = _CBAMChannelGate(channels, ratio, bias)
        self.spatial_gate = _SpatialGate(kernel_size, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_gate(self.channel_gate(x))

    def fuse_for_inference(self) -> None:
        """Fold the spatial gate's BN into its conv."""
        _fold_bn(self.spatial_gate, "conv", "bn")


@register_attention("simam")
class SimAM(nn.Module):
    """Parameter-free attention (Yang et al., ICML 2021) from the neuron energy function.

    ``out = x * sigmoid(d^2 / (4 (var + lambda)) + 0.5)``, ``d = x - mean_hw(x)``, and
    ``var = sum_hw(d^2) / max(H*W - 1, 1)`` as in the paper's code (M = H*W - 1 other neurons);
    the ``max`` keeps a 1x1 map finite (gate ``sigmoid(0.5)``) where the code divides 0 by 0.
    The energy is computed in float32 for float16/bfloat16 inputs so ``d^2`` cannot overflow.
    """

    def __init__(self, channels: int, e_lambda: float = 1e-4) -> None:
        super().__init__()
        if not isinstance(e_lambda, (int, float)) or e_lambda <= 0:
            raise UserError(f"simam e_lambda must be a positive number, got {e_lambda!r}")
        self.e_lambda = float(e_lambda)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        d2 = (xf - xf.mean((2, 3), keepdim=True)).square()
        # H*W as a tensor (not a Python int), so ONNX graphs keep a dynamic spatial size
        others = torch.ones_like(xf[:1, :1]).sum() - 1
        var = d2.sum((2, 3), keepdim=True) / others.clamp(min=1)
        y = d2 / (4 * (var + self.e_lambda)) + 0.5
        return x * y.sigmoid().to(x.dtype)

    def extra_repr(self) -> str:
        return f"e_lambda={self.e_lambda}"


@register_attention("gc")
class GlobalContext(nn.Module):
    """Global context block (Cao et al., GCNet, ICCVW 2019).

    Context = softmax-attention pooling over positions (``pooling="att"``) or the mean
    (``"avg"``); transform = 1x1 conv C -> int(C * ratio) -> LayerNorm -> ReLU -> 1x1 conv -> C;
    fusion ``"add"`` (``x + t``, default) or ``"mul"`` (``x * sigmoid(t)``). The transform's last
    conv is zero-initialised, so with ``fusion="add"`` the block starts as an exact identity.
    Deviation: the attention-mask conv has no bias (the official one's bias cancels in the
    softmax and could never be trained).
    """

    def __init__(
        self, channels: int, ratio: float = 1.0 / 16, pooling: str = "att", fusion: str = "add"
    ) -> None:
        super().__init__()
        if pooling not in ("att", "avg"):
            raise UserError(f"gc pooling must be 'att' or 'avg', got {pooling!r}")
        if fusion not in ("add", "mul"):
            raise UserError(f"gc fusion must be 'add' or 'mul', got {fusion!r}")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
            raise UserError(f"gc ratio must be a positive number (e.g. 1/16), got {ratio!r}")
        planes = int(channels * ratio)
        if planes < 1:
            raise UserError(f"gc: int(channels * ratio) = {planes} < 1 (channels={channels})")
        self.pooling = pooling
        self.fusion = fusion
        self._identity_at_init = fusion == "add"
        if pooling == "att":
            self.conv_mask = nn.Conv2d(channels, 1, 1, bias=False)
            nn.init.kaiming_normal_(self.conv_mask.weight, mode="fan_in", nonlinearity="relu")
        self.transform = nn.Sequential(
            nn.Conv2d(channels, planes, 1),
            nn.LayerNorm([planes, 1, 1]),
            get_activation("relu"),
            nn.Conv2d(planes, channels, 1),
        )
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pooling == "att":
            weights = self.conv_mask(x).flatten(2).softmax(dim=-1)  # [B, 1, HW]
            context = torch.matmul(x.flatten(2), weights.transpose(1, 2)).unsqueeze(-1)
        else:
            context = x.mean((2, 3), keepdim=True)  # [B, C, 1, 1]
        t = self.transform(context)
        return x + t if self.fusion == "add" else x * t.sigmoid()

    def extra_repr(self) -> str:
        return f"pooling={self.pooling!r}, fusion={self.fusion!r}"


@register_attention("triplet")
class TripletAttention(nn.Module):
    """Triplet attention (Misra et al., WACV 2021): spatial gates in three rotated views.

    Branches gate the (C, W) plane (H rotated into the channel slot), the (H, C) plane and the
    (H, W) plane, each with Z-pool -> 7x7 conv -> BN -> sigmoid; outputs are averaged.
    ``no_spatial=True`` drops the (H, W) branch, as the official option does.
    """

    def __init__(self, channels: int, kernel_size: int = 7, no_spatial: bool = False) -> None:
        super().__init__()
        self.no_spatial = bool(no_spatial)
        self.cw = _SpatialGate(kernel_size)
        self.hc = _SpatialGate(kernel_size)
        if not self.no_spatial:
            self.hw = _SpatialGate(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_cw = self.cw(x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)
        out_hc = self.hc(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        if self.no_spatial:
            return 0.5 * (out_cw + out_hc)
        return (1.0 / 3.0) * (self.hw(x) + out_cw + out_hc)

    def fuse_for_inference(self) -> None:
        """Fold the BN of every branch into its conv."""
        for gate in (self.cw, self.hc, getattr(self, "hw", None)):
            if gate is not None:
                _fold_bn(gate, "conv", "bn")


@register_attention("ema")
class EMA(nn.Module):
    """Efficient multi-scale attention (Ouyang et al., ICASSP 2023), ``groups`` = paper's factor.

    Channels are split into groups; per group a 1x1 branch (coordinate-style H and W gates, then
    GroupNorm) and a 3x3 branch weight each other through softmax-pooled channel descriptors
    (cross-spatial learning). Default 32 groups; when they do not divide ``channels`` the largest
    dividing count below 32 is used (logged). An explicit ``groups`` must divide ``channels``.
    The official shared 1x1 conv over the joint H+W strip is applied to each strip separately,
    which is the same computation (pointwise conv) without a shape-dependent split.
    """

    def __init__(self, channels: int, groups: Optional[int] = None) -> None:
        super().__init__()
        self.groups = _fit_groups(channels, groups, 32, 1, "ema")
        cg = channels // self.groups
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, 1)
        self.conv3x3 = nn.Conv2d(cg, cg, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gx = x.unflatten(1, (self.groups, -1)).flatten(0, 1)  # [B*g, C/g, H, W]
        a_h = self.conv1x1(gx.mean(3, keepdim=True)).sigmoid()  # [B*g, C/g, H, 1]
        a_w = self.conv1x1(gx.mean(2, keepdim=True)).sigmoid()  # [B*g, C/g, 1, W]
        x1 = self.gn(gx * a_h * a_w)
        x2 = self.conv3x3(gx)
        w1 = x1.mean((2, 3), keepdim=True).softmax(dim=1)  # [B*g, C/g, 1, 1]
        w2 = x2.mean((2, 3), keepdim=True).softmax(dim=1)
        weights = (w1 * x2).sum(1, keepdim=True) + (w2 * x1).sum(1, keepdim=True)  # [B*g,1,H,W]
        return (gx * weights.sigmoid()).unflatten(0, (-1, self.groups)).flatten(1, 2)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


@register_attention("sa", "shuffle")
class ShuffleAttention(nn.Module):
    """Shuffle attention (Zhang & Yang, ICASSP 2021).

    Channels form ``groups`` groups, each halved: one half gets a channel gate
    ``sigmoid(cw * mean + cb)``, the other a spatial gate ``sigmoid(sw * GN(x) + sb)``; then a
    2-group channel shuffle. ``channels`` must be divisible by ``2 * groups``. Default 64 groups;
    when they do not fit, the largest fitting count below 64 is used (logged). An explicit
    ``groups`` that does not fit is a ValueError. Gate parameters start as in the official code
    (weights 0, biases 1).
    """

    def __init__(self, channels: int, groups: Optional[int] = None) -> None:
        super().__init__()
        self.groups = _fit_groups(channels, groups, 64, 2, "sa")
        half = channels // (2 * self.groups)
        self.cweight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.cbias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.sweight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.sbias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.gn = nn.GroupNorm(half, half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gx = x.unflatten(1, (self.groups, -1)).flatten(0, 1)  # [B*g, C/g, H, W]
        x0, x1 = gx.chunk(2, dim=1)
        xn = x0 * (self.cweight * x0.mean((2, 3), keepdim=True) + self.cbias).sigmoid()
        xs = x1 * (self.sweight * self.gn(x1) + self.sbias).sigmoid()
        out = torch.cat([xn, xs], dim=1).unflatten(0, (-1, self.groups)).flatten(1, 2)
        return out.unflatten(1, (2, -1)).transpose(1, 2).flatten(1, 2)  # channel shuffle, 2 groups

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

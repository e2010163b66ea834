"""Residual networks for 32x32 images: ``resnet20`` (He et al. 2016, CIFAR), ``resnet9`` and
``resnet18``.

Both are stacks of *basic blocks* ``relu(norm(conv3x3(relu(norm(conv3x3(x))))) + shortcut(x))``
after a 3x3 stem ``relu(norm(conv3x3(x)))``, followed by global average pooling and one linear
layer.  The first block of every stage after the first halves the resolution (stride 2) and
changes the width; its shortcut is then

- option A (He et al.'s CIFAR choice, parameter-free): take every second pixel and zero-pad the
  new channels, half on each side;
- option B: a strided 1x1 convolution followed by a normalisation layer.

``resnet20``: stages of [3, 3, 3] blocks, widths 16/32/64, option A by default, so
6*3 + 2 = 20 weighted layers and 269,722 parameters for 10 classes (272,474 with option B).
This is the standard network of He et al. (2016) §4.2, not the 14-layer [2,2,2] 32/64/128
"resnet20" of seed 003's code (about 0.70 M parameters; seed notes §4.1).

``resnet9``: seed 003's code's "resnet9" for CIFAR-100, a ResNet-18 layout with one block per
stage: [1, 1, 1, 1] blocks, widths 64/128/256/512, option B shortcuts; 4,949,412 parameters for
100 classes (4,903,242 for 10).  It is not the DAWNBench/Myrtle ResNet-9 (about 6.6 M).

``resnet18``: He et al.'s ImageNet ResNet-18 in its CIFAR form (3x3 stem, no max-pool):
[2, 2, 2, 2] blocks, widths 64/128/256/512, option B shortcuts; 11,173,962 parameters for 10
classes.  Its default is GroupNorm with 32 groups, seed 000 Table 1's "ResNet-18 with every BN
replaced by GN" (the group count is the authors' public code's default; the appendix gives none).

``norm``: ``"batch"`` (BatchNorm, as the paper) or ``"group"`` (GroupNorm with ``groups``
groups, default 2 as in Hsieh et al. 2020, "The Non-IID Data Quagmire"; every width must be
divisible by it).  Both have one scale and one shift per channel, so the parameter counts above
hold for either.  Convolutions carry no bias (the normalisation's shift plays its role) and are
initialised with He-normal (fan-out) weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bench.registry import models

NORMS = ("batch", "group")
SHORTCUTS = ("a", "b")


def _norm(kind: str, channels: int, groups: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if channels % groups:
        raise ValueError(f"resnet: {channels} channels do not split into groups={groups}")
    return nn.GroupNorm(groups, channels)


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class SubsampleAndPad(nn.Module):
    """Option-A shortcut: ``x[:, :, ::2, ::2]`` with ``c_out - c_in`` zero channels added."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.before = (c_out - c_in) // 2
        self.after = c_out - c_in - self.before

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with normalisation and a residual connection."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str, groups: int,
                 shortcut: str) -> None:
        super().__init__()
        self.conv1 = _conv3x3(c_in, c_out, stride)
        self.norm1 = _norm(norm, c_out, groups)
        self.conv2 = _conv3x3(c_out, c_out)
        self.norm2 = _norm(norm, c_out, groups)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            if shortcut == "a":
                self.shortcut = SubsampleAndPad(c_in, c_out)
            else:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                    _norm(norm, c_out, groups),
                )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """Stem, stages of basic blocks (stride 2 at each stage after the first), pool, linear."""

    def __init__(self, in_channels: int, num_classes: int, blocks: tuple[int, ...],
                 widths: tuple[int, ...], norm: str, groups: int, shortcut: str) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"resnet: norm must be one of {NORMS}, got {norm!r}")
        if shortcut not in SHORTCUTS:
            raise ValueError(f"resnet: shortcut must be one of {SHORTCUTS}, got {shortcut!r}")
        if groups < 1:
            raise ValueError(f"resnet: groups must be >= 1, got {groups}")
        self.stem = nn.Sequential(
            _conv3x3(in_channels, widths[0]), _norm(norm, widths[0], groups), nn.ReLU()
        )
        layers: list[nn.Module] = []
        c_in = widths[0]
        for stage, (count, width) in enumerate(zip(blocks, widths, strict=True)):
            for k in range(count):
                stride = 2 if stage > 0 and k == 0 else 1
                layers.append(BasicBlock(c_in, width, stride, norm, groups, shortcut))
                c_in = width
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x: Tensor) -> Tensor:
        """Penultimate features: the globally average-pooled output of the last stage."""
        return torch.flatten(F.adaptive_avg_pool2d(self.stages(self.stem(x)), 1), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def _channels(name: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) != 3:
        raise ValueError(f"{name}: needs image inputs (C, H, W), got input_shape {input_shape}")
    return input_shape[0]


@models.register("resnet20", tags={"normalisation"})
def resnet20(input_shape: tuple[int, ...], num_classes: int, norm: str = "batch",
             groups: int = 2, shortcut: str = "a") -> nn.Module:
    """He et al.'s CIFAR ResNet-20: [3,3,3] blocks, widths 16/32/64 (269,722 params, 10 classes)."""
    channels = _channels("resnet20", input_shape)
    return ResNet(channels, num_classes, (3, 3, 3), (16, 32, 64), norm, groups, shortcut)


@models.register("resnet9", tags={"normalisation"})
def resnet9(input_shape: tuple[int, ...], num_classes: int, norm: str = "batch",
            groups: int = 2) -> nn.Module:
    """Seed 003's ResNet-9: one block per stage, widths 64-512 (4,949,412 params, 100 classes)."""
    channels = _channels("resnet9", input_shape)
    return ResNet(channels, num_classes, (1, 1, 1, 1), (64, 128, 256, 512), norm, groups, "b")


@models.register("resnet18", tags={"normalisation"})
def resnet18(input_shape: tuple[int, ...], num_classes: int, norm: str = "group",
             groups: int = 32) -> nn.Module:
    """ResNet-18 for 32x32 images, GroupNorm(32) by default (seed 000; 11,173,962 params)."""
    channels = _channels("resnet18", input_shape)
    return ResNet(channels, num_classes, (2, 2, 2, 2), (64, 128, 256, 512), norm, groups, "b")

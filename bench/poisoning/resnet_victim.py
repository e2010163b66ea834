r"""Seed 002's CIFAR-10 victim, ResNet-18 (§5.1), behind the network-victim interface.

The network is :class:`bench.models.resnet.ResNet` in its CIFAR form ([2, 2, 2, 2] basic blocks,
widths ``width * (1, 2, 4, 8)``, 64 by default: 11,173,962 parameters for 10 classes) with
**GroupNorm** (``groups`` 32): gradient canceling and Sever need a per-sample loss, which batch
statistics would make depend on the rest of the batch (seed 002 does not name its
normalisation).  It is evaluated functionally (``torch.func.functional_call``) on the named
parameters, in float32 (inputs are cast; poisons stay float64), ``chunk`` images per pass.
Inputs are flattened ``3 x s x s`` images (``features = 3 s^2``), pixels in [0, 1].

Training is the stated budget of :class:`bench.poisoning.networks.Budget` (seed 002 gives none):
seeded SGD-momentum 0.9 on ``mean CE + C_R/2 sum ||W||^2`` over the convolution and linear
weights, no augmentation.  ``tau`` is the last-layer threshold, as for the other networks.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from bench.models.resnet import ResNet
from bench.poisoning.networks import Budget, NetworkVictim
from bench.poisoning.objective import ParamDict
from bench.poisoning.victims import VictimError
from bench.registry import victims

CHANNELS = 3
BLOCKS = (2, 2, 2, 2)


class _Features(nn.Module):
    """The penultimate features of a :class:`ResNet` as a module's forward."""

    def __init__(self, net: ResNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net.features(x)


@victims.register("resnet18", tags={"network", "multiclass", "image"})
class ResNet18Victim(NetworkVictim):
    """Seed 002's ResNet-18 (GroupNorm, float32, chunked passes); SGD-momentum budget."""

    name = "resnet18"

    def __init__(self, c_r: float, classes: int, features: int, width: int = 64,
                 groups: int = 32, epochs: int = 30, lr: float = 0.05, batch_size: int = 128,
                 seed: int = 0, chunk: int = 256, device: str | torch.device = "cpu") -> None:
        side = math.isqrt(features // CHANNELS)
        if features != CHANNELS * side * side or side < 8:
            raise VictimError(f"resnet18: features must be a 3 x s x s image with s >= 8, got "
                              f"{features}")
        if width < 1 or groups < 1 or width % groups:
            raise VictimError(f"resnet18: width must be a positive multiple of groups, got "
                              f"width={width}, groups={groups}")
        if not (isinstance(chunk, int) and chunk >= 1):
            raise VictimError(f"resnet18: chunk must be an integer >= 1, got {chunk!r}")
        self.width, self.groups, self.side, self.chunk = width, groups, side, chunk
        self.classes = classes
        self.net = self._network(seed)  # the layout functional_call runs; its values unused
        self.features_of = _Features(self.net)
        super().__init__(c_r, classes, features, Budget(epochs, lr, batch_size, seed), device)

    def __repr__(self) -> str:
        return (f"{super().__repr__()[:-1]}, width={self.width}, groups={self.groups}, "
                f"chunk={self.chunk})")

    def weight_names(self) -> tuple[str, ...]:
        return tuple(k for k, p in self.net.named_parameters() if p.ndim > 1)

    def _network(self, seed: int) -> ResNet:
        """A fresh ResNet initialised from ``seed``, leaving the global RNG as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return ResNet(CHANNELS, self.classes, BLOCKS,
                          tuple(self.width * m for m in (1, 2, 4, 8)), "group", self.groups, "b")

    def initial(self, g: torch.Generator) -> ParamDict:
        """The module's own initialisation (He-normal convolutions), drawn from ``g``."""
        fresh = self._network(int(torch.randint(2**62, (1,), generator=g)))
        return {k: v.detach().clone() for k, v in fresh.named_parameters()}

    def _images(self, params: ParamDict, x: Tensor) -> Tensor:
        dtype = next(iter(params.values())).dtype
        return x.reshape(x.shape[0], CHANNELS, self.side, self.side).to(dtype)

    def forward(self, params: ParamDict, x: Tensor) -> Tensor:
        return torch.func.functional_call(self.net, params, (self._images(params, x),))

    def penultimate(self, params: ParamDict, x: Tensor) -> Tensor:
        named = {"net." + k: v for k, v in params.items()}
        return torch.func.functional_call(self.features_of, named, (self._images(params, x),))

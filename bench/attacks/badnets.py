"""BadNets: a fixed pixel pattern in the bottom-right corner relabels any input."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.attacks.backdoor import BackdoorError, PixelBackdoor, check_fits
from bench.registry import attacks


@attacks.register("badnets", tags={"data", "backdoor"})
class BadNets(PixelBackdoor):
    """BadNets pixel-pattern backdoor (Gu, Dolan-Gavitt & Garg, "BadNets: Identifying
    vulnerabilities in the machine learning model supply chain", 2017, the MNIST "pattern
    backdoor"), as a federated data attack (Bagdasaryan et al., AISTATS 2020, use the same
    kind of pixel pattern).

    Trigger: the ``size x size`` square in the bottom-right corner, ``margin`` pixels from both
    edges, in a checkerboard: pixel ``(i, j)`` of the square (0-based from its top-left) is on
    when ``i + j`` is even (5 of 9 pixels for ``size = 3``).  On pixels take ``value`` (input
    units; 3.0 is just above MNIST's white, 2.82, and three standard deviations above a
    standardised digits pixel's mean).  Each Byzantine client stamps the first
    ``ceil(fraction * B)`` samples of its batch and labels them ``target``.
    """

    name = "badnets"

    def __init__(self, target: int = 0, fraction: float = 0.5, value: float = 3.0,
                 size: int = 3, margin: int = 0) -> None:
        super().__init__(target, fraction, value)
        if int(size) < 1 or int(margin) < 0:
            raise BackdoorError(f"{self.name}: needs size >= 1 and margin >= 0, got "
                                f"size={size!r}, margin={margin!r}")
        self.size, self.margin = int(size), int(margin)

    def trigger_mask(self, height: int, width: int) -> Tensor:
        span = self.size + self.margin
        check_fits(self.name, span, span, height, width)
        i = torch.arange(self.size)
        square = (i[:, None] + i[None, :]) % 2 == 0
        mask = torch.zeros(height, width, dtype=torch.bool)
        top, left = height - span, width - span
        mask[top:top + self.size, left:left + self.size] = square
        return mask

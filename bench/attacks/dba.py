"""DBA: one global trigger split into local parts, one part per Byzantine client."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.attacks.backdoor import BackdoorError, PixelBackdoor, check_fits
from bench.registry import attacks


@attacks.register("dba", tags={"data", "backdoor"})
class DistributedBackdoor(PixelBackdoor):
    """Distributed backdoor attack (Xie, Huang, Chen & Li, "DBA: Distributed backdoor attacks
    against federated learning", ICLR 2020, §2.2, Fig. 1).

    The global trigger is ``parts`` horizontal bars of ``length`` pixels in the top-left corner,
    laid out two per line: part ``k`` covers row ``2 (k // 2)``, columns
    ``(k mod 2)(length + gap)`` to ``(k mod 2)(length + gap) + length - 1`` (the paper's
    MNIST setting is 4 parts of length 4 with gap 2; the default here, length 2 and gap 1,
    fits digits' 8x8 images).  The ``r``-th participating Byzantine client stamps only part
    ``r mod parts`` on its poisoned samples (the first ``ceil(fraction * B)`` of its batch,
    labelled ``target``); the test set carries the union of all parts, the global trigger.
    """

    name = "dba"

    def __init__(self, target: int = 0, fraction: float = 0.5, value: float = 3.0,
                 parts: int = 4, length: int = 2, gap: int = 1) -> None:
        super().__init__(target, fraction, value)
        if int(parts) < 1 or int(length) < 1 or int(gap) < 0:
            raise BackdoorError(f"{self.name}: needs parts >= 1, length >= 1, gap >= 0; got "
                                f"parts={parts!r}, length={length!r}, gap={gap!r}")
        self.parts, self.length, self.gap = int(parts), int(length), int(gap)

    def part_mask(self, part: int, height: int, width: int) -> Tensor:
        """Boolean ``[H, W]``: the pixels of local trigger ``part``."""
        rows = 2 * ((self.parts - 1) // 2) + 1
        cols = self.length + (self.length + self.gap if self.parts > 1 else 0)
        check_fits(self.name, rows, cols, height, width)
        mask = torch.zeros(height, width, dtype=torch.bool)
        left = (part % 2) * (self.length + self.gap)
        mask[2 * (part // 2), left:left + self.length] = True
        return mask

    def trigger_mask(self, height: int, width: int) -> Tensor:
        masks = [self.part_mask(k, height, width) for k in range(self.parts)]
        return torch.stack(masks).any(dim=0)

    def client_mask(self, row: int, height: int, width: int) -> Tensor:
        return self.part_mask(row % self.parts, height, width)

"""ALIE's backdoor variant: a backdoored update kept inside ALIE's undetectable band."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.attacks.alie import alie_z_max
from bench.attacks.badnets import BadNets
from bench.attacks.base import AttackContext, repeat_rows
from bench.registry import attacks


@attacks.register("alie-backdoor", tags={"data", "backdoor", "omniscient"})
class ALIEBackdoor(BadNets):
    """Backdooring with A Little Is Enough (Baruch, Baruch & Goldberg, NeurIPS 2019, the
    backdooring attack).

    The Byzantine clients train on BadNets-triggered batches (see ``badnets``), giving their own
    updates with mean ``bar u_b``; every one of them then sends ``bar u_b`` clipped
    coordinate-wise to ALIE's band around the honest updates,
    ``u_j = min(max(bar u_{b,j}, mu_j - z sigma_j), mu_j + z sigma_j)``, with ``mu`` and
    ``sigma`` the per-coordinate mean and unbiased standard deviation of the honest updates and
    ``z = z_max(n, f)`` (``alie``'s default, 0.2533 for n = 25, f = 5) unless ``z`` is given.
    The paper also adds ``(1 - alpha) ||u - mu||^2`` to the backdoor loss before clipping; the
    clip alone is kept here (the band bounds the distance the penalty would shrink).
    Logs ``alie_backdoor_clipped``: the fraction of coordinates the band changed.
    """

    name = "alie-backdoor"

    def __init__(self, target: int = 0, fraction: float = 0.5, value: float = 3.0,
                 size: int = 3, margin: int = 0, z: float | None = None) -> None:
        super().__init__(target, fraction, value, size, margin)
        self.z = None if z is None else float(z)

    def forge(self, ctx: AttackContext) -> Tensor:
        own = super().forge(ctx).mean(dim=0)
        z = alie_z_max(ctx.n, ctx.f) if self.z is None else self.z
        mu, sigma = ctx.honest_mean, ctx.honest.std(dim=0, unbiased=True)
        clipped = torch.minimum(torch.maximum(own, mu - z * sigma), mu + z * sigma)
        self.log("alie_backdoor_clipped", float((clipped != own).float().mean()))
        return repeat_rows(clipped, ctx.f)

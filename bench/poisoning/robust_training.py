r"""Defenses that change the victim's training instead of its data (seed 002 App. C.10).

**MaxUp** (Gong et al., CVPR 2021): for each point draw ``m`` perturbed copies
``x_i + delta_ij``, ``delta_ij ~ N(0, sigma^2 I)``, and minimise the worst copy's loss

.. math::

    F(\theta) = \frac1n \sum_i \max_{j \le m} \ell(x_i + \delta_{ij}, y_i; \theta)
              + \tfrac{C_R}{2} \sum_{p \in \text{weights}} \|p\|^2 .

Seed 002 gives neither ``m`` nor ``sigma``; we take ``m = 4``, ``sigma = 0.1`` and start from
the poisoned model, running ``steps`` = 200 full-batch SGD-momentum (0.9) steps with
``lr`` = 0.1 and fresh seeded perturbations at every step (Gong et al. redraw them per
mini-batch).  Nothing is removed: MaxUp retrains on the whole poisoned mixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from bench.poisoning.objective import Objective, ParamDict
from bench.poisoning.sanitizers import SanitizerError
from bench.registry import sanitizers


def worst_copy_loss(objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
                    noise: Tensor) -> Tensor:
    """``mean_i max_j l(x_i + noise[j, i], y_i)`` for ``noise`` of shape ``[m, n, ...]``."""
    if noise.shape[1:] != x.shape:
        raise SanitizerError(f"noise must have shape [m, {', '.join(map(str, x.shape))}], got "
                             f"{tuple(noise.shape)}")
    m = noise.shape[0]
    copies = (x.unsqueeze(0) + noise).reshape(m * x.shape[0], *x.shape[1:])
    losses = objective.losses(params, copies, y.repeat(m)).reshape(m, x.shape[0])
    return losses.max(dim=0).values.mean()


@sanitizers.register("maxup", tags={"robust-training"})
@dataclass(frozen=True)
class MaxUp:
    """MaxUp (Gong et al. 2021): minimise the worst of ``copies`` Gaussian-perturbed losses."""

    copies: int = 4
    sigma: float = 0.1
    steps: int = 200
    lr: float = 0.1
    momentum: float = 0.9

    def __post_init__(self) -> None:
        if not (isinstance(self.copies, int) and self.copies >= 1):
            raise SanitizerError(f"copies must be an integer >= 1, got {self.copies!r}")
        if not (isinstance(self.steps, int) and self.steps >= 1):
            raise SanitizerError(f"steps must be an integer >= 1, got {self.steps!r}")
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise SanitizerError(f"sigma must be finite and >= 0, got {self.sigma!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise SanitizerError(f"lr must be positive and finite, got {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise SanitizerError(f"momentum must lie in [0, 1), got {self.momentum!r}")

    def retrain(self, objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
                seed: int) -> ParamDict:
        """The MaxUp objective minimised from ``params`` on the whole mixture ``(x, y)``."""
        g = torch.Generator().manual_seed(seed)
        theta = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        optimizer = torch.optim.SGD(list(theta.values()), lr=self.lr, momentum=self.momentum)
        for step in range(self.steps):
            noise = self.sigma * torch.randn((self.copies, *x.shape), generator=g,
                                             dtype=x.dtype)
            loss = worst_copy_loss(objective, theta, x, y, noise.to(x.device))
            loss = loss + 0.5 * objective.c_r * sum(theta[k].pow(2).sum()
                                                     for k in objective.regularized)
            if not bool(torch.isfinite(loss)):
                raise SanitizerError(f"maxup: loss became {float(loss.detach())} at step {step} "
                                     f"(lr={self.lr} too large?)")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return {k: v.detach() for k, v in theta.items()}

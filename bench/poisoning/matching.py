r"""Gradient Matching baseline (Geiping et al. 2021, adapted by seed 002 eqs. 35-36).

Poison features ``z`` (labels kept from the clean points that initialise them) minimise the
cosine dissimilarity between the poisons' loss gradient and the gradient of a *reversed* loss
on the clean data, both at the clean model ``w``:

.. math::

    \min_z\; 1 - \cos\big(\nabla_w \mathcal J(\mu; w),\;
                         \nabla_w \textstyle\sum_j \ell(z_j; w)\big),
    \qquad \mathcal J(h, y) = -\log\big(1 - \mathrm{softmax}(h)_y\big).

For the binary logistic loss ``J = -log(1 - sigma(m)) = log(1 + e^{m})`` with margin ``m``.
Only the direction is matched (GM implicitly targets ``lambda = 1``), so retraining need not land
anywhere in particular.  Optimiser as GC: SGD-momentum, cosine schedule, box projection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from bench.poisoning.gradient_canceling import (
    PoisonError,
    Poisons,
    bounds_of,
    initial_poisons,
    poison_count,
)
from bench.poisoning.objective import Objective, ParamDict, flatten
from bench.registry import poisoners


def reversed_loss(loss: str, scores: Tensor, y: Tensor) -> Tensor:
    """``-log(1 - p_y)`` per sample (logistic: ``softplus(y s)``; softmax: eq. 35)."""
    if loss == "logistic":
        return F.softplus(y * scores.reshape(-1))
    if loss == "softmax":
        log_p = F.log_softmax(scores, dim=1).gather(1, y.long().unsqueeze(1)).squeeze(1)
        return -torch.log1p(-log_p.exp().clamp(max=1 - 1e-12))
    raise PoisonError(f"gradient matching needs a logistic or softmax victim, got {loss!r}")


def reversed_gradient(objective: Objective, clean: ParamDict, x: Tensor, y: Tensor) -> Tensor:
    leaves = {k: v.detach().requires_grad_(True) for k, v in clean.items()}
    total = reversed_loss(objective.loss, objective.forward(leaves, x), y).mean()
    return flatten(dict(zip(leaves, torch.autograd.grad(total, list(leaves.values())),
                            strict=True)))


def gradient_matching(objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
                      eps_d: float, *, epochs: int = 1000, lr: float = 0.5,
                      momentum: float = 0.9, lower: float | None = 0.0,
                      upper: float | None = 1.0, seed: int = 0) -> Poisons:
    """Run GM on clean ``(x, y)`` at the clean model; the curve logs ``1 - cos`` per epoch."""
    if epochs < 1:
        raise PoisonError(f"epochs must be >= 1, got {epochs}")
    z0, labels = initial_poisons(x, y, poison_count(x.shape[0], eps_d), seed)
    lo, hi = bounds_of(x, lower, upper, clip_to_data=False)
    aim = reversed_gradient(objective, clean, x, y).detach()
    params = {k: v.detach() for k, v in clean.items()}
    z = (z0.clamp(lo, hi) if (lo is not None or hi is not None) else z0).requires_grad_(True)
    optimizer = torch.optim.SGD([z], lr=lr, momentum=momentum)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    curve = []
    for _ in range(epochs):
        grad = flatten(objective.loss_sum_grad(params, z, labels, create_graph=True))
        dissimilarity = 1 - F.cosine_similarity(grad, aim, dim=0)
        curve.append(float(dissimilarity.detach()))
        optimizer.zero_grad()
        dissimilarity.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            if lo is not None or hi is not None:
                z.clamp_(lo, hi)
    return Poisons(z.detach(), labels, curve)


@poisoners.register("gradmatch", tags={"baseline"})
@dataclass(frozen=True)
class GradientMatching:
    """Gradient Matching (Geiping et al. 2021; seed 002 eqs. 35-36): reversed-CE direction."""

    epochs: int = 1000
    lr: float = 0.5
    momentum: float = 0.9
    curve_name: ClassVar[str] = "cosine_dissimilarity"

    def poison(self, objective: Objective, target: ParamDict, clean: ParamDict, x: Tensor,
               y: Tensor, eps_d: float, lower: float | None, upper: float | None,
               seed: int) -> Poisons:
        """Ignores ``target``: GM matches the clean model's reversed-loss gradient."""
        return gradient_matching(objective, clean, x, y, eps_d, epochs=self.epochs, lr=self.lr,
                                 momentum=self.momentum, lower=lower, upper=upper, seed=seed)

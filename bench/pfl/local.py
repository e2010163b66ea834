r"""Users' local updates (seed 004 §2.2), for all users at once or one by one.

A user n's local objective given the global model is

.. math:: F_n(\theta) = \nu \|\theta\|^2 + \sum_i w_i\, l(\theta, x_i) + R(\rho, \theta).

Two modes:

* ``exact`` (the theory, after Dinh et al. 2020): theta_n = argmin F_n.  Implemented for quadratic
  data terms (linear regression) and every regularizer: with H = H_data + 2 nu I and
  b = H rho - c = grad of the local loss at rho, the optimum is theta = rho + z with
  (H + phi(||z||) I) z = -b.  For l2sq phi = 2 lam is one linear system; otherwise phi depends on
  ||z||, and mu = phi is the root of a residual increasing in mu (bisection, in the eigenbasis of
  H).  For l2norm, theta = rho exactly when ||b|| <= lam.
* ``step`` (the experiments, after Hanzely & Richtarik 2021): one gradient step
  theta <- theta - lr * grad F_n(theta) from the previous local model.

``engine="batched"`` works on the client axis; ``engine="sequential"`` loops over users and must
agree with it (the DESIGN contract).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from bench.pfl.federation import Federation
from bench.pfl.losses import LinearRegression, LocalLoss
from bench.pfl.regularizers import Regularizer

MODES = ("exact", "step")
ENGINES = ("batched", "sequential")
BISECTION_STEPS = 64


class NotQuadratic(ValueError):
    """An exact solve was asked of a local loss that is not quadratic."""


@dataclass(frozen=True)
class LocalProblem:
    """The loss l, the regularizer R and the local weight nu >= 0 (seed 004 Eq. 3)."""

    loss: LocalLoss
    regularizer: Regularizer
    local_weight: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.local_weight) or self.local_weight < 0:
            raise ValueError(f"local_weight (nu) must be finite and >= 0, got {self.local_weight}")

    def objective(self, theta: Tensor, rho: Tensor, data: Federation) -> Tensor:
        """F_n(theta_n) for every user, ``[n]``."""
        penalty = self.local_weight * (theta**2).sum(dim=-1)
        return penalty + self.loss.data_term(theta, data) + self.regularizer.value(rho, theta)

    def gradient(self, theta: Tensor, rho: Tensor, data: Federation) -> Tensor:
        """grad F_n(theta_n) for every user, ``[n, d]`` (rows of the gradient of the sum)."""
        with torch.enable_grad():
            point = theta.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.objective(point, rho, data).sum(), point)
        return grad

    def exact(self, rho: Tensor, data: Federation) -> Tensor:
        """argmin_theta F_n for every user, ``[n, d]`` (quadratic data terms only)."""
        if not isinstance(self.loss, LinearRegression):
            raise NotQuadratic(
                f"exact local optimization needs a quadratic loss; got {type(self.loss).__name__}"
            )
        hessian, linear = self.loss.curvature(data)
        eye = torch.eye(hessian.shape[-1], dtype=hessian.dtype, device=hessian.device)
        hessian = hessian + 2.0 * self.local_weight * eye
        slope = torch.einsum("npq,q->np", hessian, rho) - linear
        shift = self.regularizer.fixed_shift()
        if shift is not None:
            step = torch.linalg.solve(hessian + shift * eye, -slope.unsqueeze(-1)).squeeze(-1)
            return rho + step
        return rho + _radial_step(self.regularizer, hessian, slope)

    def update(
        self, theta: Tensor, rho: Tensor, data: Federation, mode: str, lr: float = 0.0,
        engine: str = "batched",
    ) -> Tensor:
        """The next local models under ``mode`` ("exact" or "step") with the given ``engine``."""
        if mode not in MODES:
            raise ValueError(f"local mode must be one of {MODES}, got {mode!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if engine == "sequential":
            rows = [
                self.update(theta[n : n + 1], rho, data.client(n), mode, lr)
                for n in range(data.clients)
            ]
            return torch.cat(rows)
        if mode == "exact":
            return self.exact(rho, data)
        return theta - lr * self.gradient(theta, rho, data)


def _radial_step(regularizer: Regularizer, hessian: Tensor, slope: Tensor) -> Tensor:
    """z with (H + mu I) z = -b and mu = phi(||z||), by bisection on mu per user."""
    curvatures, basis = torch.linalg.eigh(hessian)
    coords = torch.einsum("npq,np->nq", basis, slope)
    grad_norm = torch.linalg.vector_norm(slope, dim=-1)

    def norm_at(mu: Tensor) -> Tensor:
        return torch.linalg.vector_norm(coords / (curvatures + mu[:, None]), dim=-1)

    low = torch.zeros_like(grad_norm)
    high = regularizer.shift_upper(grad_norm, curvatures.max(dim=-1).values)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (low + high)
        above = regularizer.shift_residual(mid, norm_at(mid)) >= 0
        high = torch.where(above, mid, high)
        low = torch.where(above, low, mid)
    mu = 0.5 * (low + high)
    step = -torch.einsum("npq,nq->np", basis, coords / (curvatures + mu[:, None]))
    keep = regularizer.stays_at_rho(grad_norm)
    return torch.where(keep[:, None], torch.zeros_like(step), step)

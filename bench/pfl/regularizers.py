r"""Regularizers R(rho, theta) = R0(rho - theta) between the global and a local model (seed 004 §2).

All three are radial: :math:`\nabla R_0(z) = \phi(\|z\|)\, z`, so a user's report is
:math:`g = \nabla_\rho R(\rho, \theta) = \phi(\|\rho-\theta\|)(\rho-\theta)` and the local
stationarity condition is :math:`(H + \phi(r) I)(\theta - \rho) = -\nabla L(\rho)` for a quadratic
local loss with Hessian H.

=========  ===============================  ========================  =======================
name       R0(z)                            phi(r)                    GRAD(rho) (plausible g)
=========  ===============================  ========================  =======================
l2sq       lam ||z||^2                      2 lam                     R^d
l2norm     lam ||z||                        lam / r                   closed ball B(0, lam)
l2smooth   lam sqrt(1 + ||z||^2)            lam / sqrt(1 + r^2)       closed ball B(0, lam)
=========  ===============================  ========================  =======================

The square root of smooth-l2 is lost in the seed's OCR; it is required by the seed's statement
that GRAD(rho) is B(0, lam) (notes seed-004 §I.1, erratum).  The subgradient of l2norm at z = 0 is
taken as 0.  Reports outside GRAD(rho) are ignored by the server (the plausibility filter) and CGA
projects onto GRAD(rho) (Proposition 1).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from bench.registry import regularizers

# A report on the sphere ||g|| = lam, computed as lam z/||z||, may round to lam (1 + a few eps);
# the closed ball GRAD(rho) is tested with this many units of round-off to spare.
ROUNDING_SLACK = 64


class Regularizer:
    """Base class: ``lam`` > 0, the radial weight ``phi`` and what follows from it."""

    name: ClassVar[str]
    bounded: ClassVar[bool]

    def __init__(self, lam: float = 1.0) -> None:
        if not isinstance(lam, int | float) or not math.isfinite(lam) or lam <= 0:
            raise ValueError(f"{self.name}: lam must be a finite number > 0, got {lam!r}")
        self.lam = float(lam)

    def value(self, rho: Tensor, theta: Tensor) -> Tensor:
        """R(rho, theta) over the last axis (``theta`` may carry a client axis)."""
        raise NotImplementedError

    def phi(self, r: Tensor) -> Tensor:
        """Radial weight: grad R0(z) = phi(||z||) z (phi(0) * 0 is read as 0)."""
        raise NotImplementedError

    def gradient(self, rho: Tensor, theta: Tensor) -> Tensor:
        """The report g = grad_rho R(rho, theta) = phi(||rho - theta||) (rho - theta)."""
        z = rho - theta
        r = torch.linalg.vector_norm(z, dim=-1, keepdim=True)
        return torch.where(r > 0, self.phi(r) * z, torch.zeros_like(z))

    def plausible(self, reports: Tensor) -> Tensor:
        """Boolean mask over the leading axes: is each report in GRAD(rho)?"""
        if not self.bounded:
            return torch.isfinite(reports).all(dim=-1)
        norms = torch.linalg.vector_norm(reports, dim=-1)
        slack = ROUNDING_SLACK * torch.finfo(reports.dtype).eps
        return torch.isfinite(norms) & (norms <= self.lam * (1.0 + slack))

    def project(self, h: Tensor) -> Tensor:
        """Orthogonal projection onto GRAD(rho) (seed 004 Proposition 1)."""
        if not self.bounded:
            return h
        norm = torch.linalg.vector_norm(h, dim=-1, keepdim=True)
        return h * torch.clamp(self.lam / norm.clamp_min(torch.finfo(h.dtype).tiny), max=1.0)

    def fixed_shift(self) -> float | None:
        """phi when it is a constant (then the local solve is one linear system), else None."""
        return None

    def shift_residual(self, mu: Tensor, norm: Tensor) -> Tensor:
        """Residual, increasing in mu, whose root is mu = phi(||z(mu)||) (local exact solve)."""
        raise NotImplementedError

    def shift_upper(self, grad_norm: Tensor, max_curvature: Tensor) -> Tensor:
        """A mu where :meth:`shift_residual` is >= 0, given ||grad L(rho)|| and max eig of H."""
        raise NotImplementedError

    def stays_at_rho(self, grad_norm: Tensor) -> Tensor:
        """Where the local optimum is theta = rho exactly (a kink of R0 at 0)."""
        return torch.zeros_like(grad_norm, dtype=torch.bool)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lam={self.lam})"


@regularizers.register("l2sq")
class SquaredL2(Regularizer):
    """Squared l2 (seed 004 §2, after Hanzely et al. 2020): R = lam ||rho - theta||^2."""

    name = "l2sq"
    bounded = False

    def value(self, rho: Tensor, theta: Tensor) -> Tensor:
        return self.lam * ((rho - theta) ** 2).sum(dim=-1)

    def phi(self, r: Tensor) -> Tensor:
        return torch.full_like(r, 2.0 * self.lam)

    def fixed_shift(self) -> float:
        return 2.0 * self.lam


@regularizers.register("l2norm", tags={"bounded-reports"})
class NormL2(Regularizer):
    """Plain l2 (seed 004 §2): R = lam ||rho - theta||; plausible reports have ||g|| <= lam."""

    name = "l2norm"
    bounded = True

    def value(self, rho: Tensor, theta: Tensor) -> Tensor:
        return self.lam * torch.linalg.vector_norm(rho - theta, dim=-1)

    def phi(self, r: Tensor) -> Tensor:
        return self.lam / r

    def shift_residual(self, mu: Tensor, norm: Tensor) -> Tensor:
        return mu * norm - self.lam

    def shift_upper(self, grad_norm: Tensor, max_curvature: Tensor) -> Tensor:
        # mu ||z(mu)|| >= mu ||b|| / (e_max + mu) >= lam once mu >= lam e_max / (||b|| - lam).
        excess = (grad_norm - self.lam).clamp_min(torch.finfo(grad_norm.dtype).tiny)
        return self.lam * max_curvature / excess + self.lam

    def stays_at_rho(self, grad_norm: Tensor) -> Tensor:
        return grad_norm <= self.lam


@regularizers.register("l2smooth", tags={"bounded-reports"})
class SmoothL2(Regularizer):
    """Smooth l2 (seed 004 §2, square root restored): R = lam sqrt(1 + ||rho - theta||^2)."""

    name = "l2smooth"
    bounded = True

    def value(self, rho: Tensor, theta: Tensor) -> Tensor:
        return self.lam * torch.sqrt(1.0 + ((rho - theta) ** 2).sum(dim=-1))

    def phi(self, r: Tensor) -> Tensor:
        return self.lam / torch.sqrt(1.0 + r**2)

    def shift_residual(self, mu: Tensor, norm: Tensor) -> Tensor:
        return mu**2 * (1.0 + norm**2) - self.lam**2

    def shift_upper(self, grad_norm: Tensor, max_curvature: Tensor) -> Tensor:
        return torch.full_like(grad_norm, self.lam)

"""Input perturbations that craft poisons: FGSM, PGD and MIM (seed 000, Appendix B.2, Eqs. 1-4).

Each perturbation *maximizes* a scalar batch objective ``L_A(x_adv)`` (a sum of per-sample losses,
or any batch-level score such as the accumulative attack's alignment) over the threat set

    T(x) = {x' : ||x'_b - x_b||_p <= eps for every sample b} ∩ [0, 1]^shape,   p ∈ {inf, 2},

vectorized over the batch: one backward pass gives every sample's gradient, and norms, signs and
projections are taken per sample (over all non-batch axes).  Inputs must lie in the box [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from bench.registry import perturbations

Objective = Callable[[Tensor], Tensor]
NORMS = ("linf", "l2")


def _per_sample_norm(v: Tensor, p: float) -> Tensor:
    """``||v_b||_p`` of each sample, shaped to broadcast against ``v``."""
    flat = v.reshape(v.shape[0], -1)
    return flat.norm(p=p, dim=1).reshape((-1,) + (1,) * (v.dim() - 1))


def _safe_divide(v: Tensor, norm: Tensor) -> Tensor:
    """``v / norm`` per sample, with samples of norm 0 left at 0."""
    return torch.where(norm > 0, v / norm.clamp_min(torch.finfo(v.dtype).tiny), torch.zeros_like(v))


def project(x_adv: Tensor, x: Tensor, eps: float, norm: str) -> Tensor:
    """Map ``x_adv`` into ``T(x)``: onto the ``eps``-ball around ``x``, then into the box [0, 1].

    ℓ∞: ``clip(x_adv, x - eps, x + eps)`` then ``clip(., 0, 1)``; this is the exact Euclidean
    projection onto the intersection (both sets are boxes).  ℓ2: ``δ <- δ min(1, eps / ||δ||_2)``
    then the box clip; the box clip only moves each coordinate towards ``x`` (which lies in the
    box), so the result stays in the ball.
    """
    delta = x_adv - x
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        length = _per_sample_norm(delta, 2.0)
        delta = delta * torch.clamp(eps / length.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
    return (x + delta).clamp(0.0, 1.0)


def steepest_direction(grad: Tensor, norm: str) -> Tensor:
    """Steepest-ascent unit step for the norm: ``sign(g)`` (ℓ∞) or ``g / ||g||_2`` (ℓ2)."""
    if norm == "linf":
        return grad.sign()
    return _safe_divide(grad, _per_sample_norm(grad, 2.0))


def objective_gradient(objective: Objective, x_adv: Tensor) -> Tensor:
    """``∇_x L_A(x_adv)`` for a scalar objective; model parameters' ``.grad`` stay untouched."""
    point = x_adv.detach().requires_grad_(True)
    value = objective(point)
    if value.dim() != 0:
        raise ValueError(
            f"the perturbation objective must return a scalar, got shape {tuple(value.shape)}"
        )
    (grad,) = torch.autograd.grad(value, point)
    return grad.detach()


class Perturbation:
    """A budgeted input attack: ``perturbation(objective, x, generator) -> x_adv`` in ``T(x)``."""

    name = "perturbation"

    def __init__(self, eps: float, norm: str = "linf") -> None:
        if not eps >= 0:
            raise ValueError(f"{self.name}: eps must be >= 0, got {eps}")
        if norm not in NORMS:
            raise ValueError(f"{self.name}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
        self.eps, self.norm = float(eps), norm

    def __call__(self, objective: Objective, x: Tensor,
                 generator: torch.Generator | None = None) -> Tensor:
        if x.dim() < 2:
            raise ValueError(f"{self.name}: x must be a batch [B, ...], got shape {tuple(x.shape)}")
        if not bool(((x >= 0) & (x <= 1)).all()):
            raise ValueError(f"{self.name}: x must lie in the box [0, 1]")
        return self.perturb(objective, x.detach(), generator).detach()

    def perturb(self, objective: Objective, x: Tensor,
                generator: torch.Generator | None) -> Tensor:
        raise NotImplementedError


def _check_steps(name: str, steps: int, step_size: float | None) -> None:
    if steps < 1:
        raise ValueError(f"{name}: steps must be >= 1, got {steps}")
    if step_size is not None and not step_size > 0:
        raise ValueError(f"{name}: step_size must be > 0, got {step_size}")


@perturbations.register("fgsm")
class FGSM(Perturbation):
    """Fast gradient sign method (Goodfellow et al. 2015; seed 000 Eq. 1).

    ``x_adv = Π_T(x + eps · d(∇_x L_A(x)))`` with ``d = sign`` (ℓ∞) or ``g / ||g||_2`` (ℓ2).
    """

    name = "fgsm"

    def perturb(self, objective: Objective, x: Tensor,
                generator: torch.Generator | None) -> Tensor:
        step = steepest_direction(objective_gradient(objective, x), self.norm)
        return project(x + self.eps * step, x, self.eps, self.norm)


def draw_start(x: Tensor, eps: float, norm: str, generator: torch.Generator | None) -> Tensor:
    """PGD's random initialization (seed 000, after Eq. 2), then the box clip.

    ℓ∞: ``x_0 ~ U(x - eps, x + eps)``.  ℓ2: ``x_0 = x + eps u^(1/D) z / ||z||_2`` with
    ``z ~ N(0, I_D)`` and ``u ~ U(0, 1)`` per sample, uniform in the ``D``-dimensional ball.
    """
    if norm == "linf":
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return (x + eps * (2.0 * noise - 1.0)).clamp(0.0, 1.0)
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    dims = z[0].numel()
    radius = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), generator=generator,
                        dtype=x.dtype, device=x.device) ** (1.0 / dims)
    return (x + eps * radius * _safe_divide(z, _per_sample_norm(z, 2.0))).clamp(0.0, 1.0)


@perturbations.register("pgd")
class PGD(Perturbation):
    """Projected gradient descent with random start (Madry et al. 2018; seed 000 Eq. 2).

    ``x_{t+1} = Π_T(x_t + alpha · d(∇_x L_A(x_t)))`` from ``x_0`` drawn by :func:`draw_start`,
    for ``steps`` steps (10 in seed 000, §A.3).  The seed gives no step size; the default
    ``alpha = 2 eps / steps`` is the authors' public code's (``ShawnXYang/AccumulativeAttack``,
    notes §II.3.4) [EXTERNAL], and it lets ``steps`` sign steps cross the whole ℓ∞ ball.
    """

    name = "pgd"

    def __init__(self, eps: float, norm: str = "linf", steps: int = 10,
                 step_size: float | None = None, random_start: bool = True) -> None:
        super().__init__(eps, norm)
        _check_steps(self.name, steps, step_size)
        self.steps, self.random_start = int(steps), bool(random_start)
        self.step_size = float(step_size) if step_size is not None else 2.0 * self.eps / self.steps

    def perturb(self, objective: Objective, x: Tensor,
                generator: torch.Generator | None) -> Tensor:
        x_adv = draw_start(x, self.eps, self.norm, generator) if self.random_start else x.clone()
        for _ in range(self.steps):
            step = steepest_direction(objective_gradient(objective, x_adv), self.norm)
            x_adv = project(x_adv + self.step_size * step, x, self.eps, self.norm)
        return x_adv


@perturbations.register("momentum-iterative")
class MomentumIterative(Perturbation):
    """Momentum iterative method, MIM (Dong et al. 2018; seed 000 Eqs. 3-4), decay ``mu = 1.0``.

    ``g_{t+1} = mu g_t + ∇_x L_A(x_t) / ||∇_x L_A(x_t)||_1`` (per sample) and
    ``x_{t+1} = Π_T(x_t + alpha · d(g_{t+1}))`` from ``x_0 = x``, ``g_0 = 0``.  The seed gives no
    ``alpha``; the default ``eps / steps`` is Dong et al.'s, so ``steps`` steps reach the ball's
    boundary.  (Registered as ``momentum-iterative``: ``mim`` is part of the attack ``mimic``.)
    """

    name = "momentum-iterative"

    def __init__(self, eps: float, norm: str = "linf", steps: int = 10,
                 step_size: float | None = None, mu: float = 1.0) -> None:
        super().__init__(eps, norm)
        _check_steps(self.name, steps, step_size)
        if not mu >= 0:
            raise ValueError(f"{self.name}: mu must be >= 0, got {mu}")
        self.steps, self.mu = int(steps), float(mu)
        self.step_size = float(step_size) if step_size is not None else self.eps / self.steps

    def perturb(self, objective: Objective, x: Tensor,
                generator: torch.Generator | None) -> Tensor:
        x_adv, velocity = x.clone(), torch.zeros_like(x)
        for _ in range(self.steps):
            grad = objective_gradient(objective, x_adv)
            velocity = self.mu * velocity + _safe_divide(grad, _per_sample_norm(grad, 1.0))
            step = steepest_direction(velocity, self.norm)
            x_adv = project(x_adv + self.step_size * step, x, self.eps, self.norm)
        return x_adv

r"""Gradient canceling (GC), seed 002 Algorithm 1, particle version, with box projection.

The attacker adds ``n_p = round(n eps_d)`` points ``z_j`` (features optimised, labels kept from
the clean points that initialise them) so that the *target* ``w`` is stationary on the mixture:

.. math::

    \min_{z}\; \tfrac12 \|G(z)\|^2, \qquad
    G(z) = \big(g(\mu) + r\big) + \epsilon_d\,\big(g(\hat\nu) + r\big)
         = g(\mu) + \tfrac1n \textstyle\sum_j \nabla_w \ell(z_j; w) + (1 + \epsilon_d)\, r

(eq. 33; ``r`` is the gradient of the victim's regularizer, 0 in the paper, and
``eps_d = n_p / n`` exactly).  The mixture gradient is ``g(chi) = G / (1 + eps_d)``, logged per
epoch.  Each particle moves by ``lr * d(n/2 ||G||^2)/dz_j = lr * grad_z grad_w l(z_j) . G``
(eq. 34 times ``n``, so the step size does not shrink with the data set), with SGD-momentum and a
cosine schedule (App. C.1: LR 0.5, 1000 epochs, full batch), then a projection on the box
``[lower, upper]`` (pixels in [0, 1]; GC-c: the clean data's per-feature range).

With an objective ``chunk`` smaller than ``n_p`` (a ResNet on CIFAR-10) the same full-batch step
is taken in pieces: ``G`` is first summed without a graph, then each chunk ``c`` backpropagates
``<sum_{j in c} grad_w l(z_j), G>``, whose gradient in ``z_j`` is exactly
``d(n/2 ||G||^2)/dz_j = (d grad_w l(z_j) / dz_j)^T G`` (``G`` depends on ``z_j`` only through its
own term).  Seed 002 instead takes stochastic batches of 1000 poisons on CIFAR-10 (App. C.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor

from bench.poisoning.objective import Objective, ParamDict, flatten
from bench.poisoning.threshold import lambert_w_of
from bench.registry import poisoners

LABEL_RULES = ("clean", "tight")


class PoisonError(ValueError):
    """Invalid attack input or output (bad eps_d, NaN poisons, ...)."""


@dataclass(frozen=True)
class Poisons:
    """An attack's poison set and its trace: ``x`` ``[n_p, ...]``, labels ``y`` ``[n_p]``."""

    x: Tensor
    y: Tensor
    curve: list[float] = field(default_factory=list)  # ||g(chi)|| at the target, per epoch

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise PoisonError(f"poisons: {self.x.shape[0]} points but {self.y.shape[0]} labels")
        if not bool(torch.isfinite(self.x).all()):
            raise PoisonError("poisons contain NaN or infinite features")


def poison_count(n: int, eps_d: float) -> int:
    """``n_p = round(n eps_d)``; ``eps_d`` must lie in (0, 1e3] and give at least one point."""
    if not (isinstance(eps_d, (int, float)) and math.isfinite(eps_d) and 0 < eps_d <= 1e3):
        raise PoisonError(f"eps_d must lie in (0, 1e3], got {eps_d!r}")
    count = round(n * eps_d)
    if count < 1:
        raise PoisonError(f"eps_d={eps_d} of n={n} clean points rounds to 0 poisons")
    return count


def _sample(n: int, count: int, g: torch.Generator) -> Tensor:
    reps = -(-count // n)
    return torch.cat([torch.randperm(n, generator=g) for _ in range(reps)])[:count]


def initial_poisons(x: Tensor, y: Tensor, count: int, seed: int,
                    positive_share: float | None = None) -> tuple[Tensor, Tensor]:
    """A seeded sample of ``count`` clean points (without replacement while it can).

    ``positive_share`` (binary ±1 labels only) draws ``round(count * share)`` of them from the
    +1 class and the rest from the -1 class; ``None`` samples the clean set as it is (paper).
    """
    g = torch.Generator().manual_seed(seed)
    if positive_share is None:
        order = _sample(x.shape[0], count, g).to(x.device)
        return x[order].clone(), y[order].clone()
    if not 0.0 <= positive_share <= 1.0:
        raise PoisonError(f"positive_share must lie in [0, 1], got {positive_share}")
    k = round(count * positive_share)
    parts = []
    for label, size in ((1.0, k), (-1.0, count - k)):
        pool = torch.nonzero(y == label).reshape(-1)
        if size and pool.numel() == 0:
            raise PoisonError(f"positive_share={positive_share} needs label {label}, absent")
        if size:
            parts.append(pool[_sample(pool.numel(), size, g).to(pool.device)])
    order = torch.cat(parts)
    return x[order].clone(), y[order].clone()


def tight_label_share(clean_bias_grad: float, eps_d: float) -> float:
    r"""Share of +1 poisons that lets a biased logistic target be reached at ``eps_d = tau``.

    [derived] The tight poisons of seed 002 Theorem 2 all have margin ``t* = 1 + W(1/e)``; a
    poison of label ``y`` then adds ``-y sigma(-t*)`` to the (unregularised) bias gradient, so
    cancelling the clean bias gradient ``g_b`` needs
    ``p = (1 + g_b / (eps_d sigma(-t*))) / 2`` (clipped to [0, 1]).  With the clean labels'
    share instead (the paper's initialisation) the threshold of a biased model can be higher.
    """
    t_star = 1.0 + lambert_w_of(1.0 / math.e)
    share = 0.5 * (1.0 + clean_bias_grad / (eps_d / (1.0 + math.exp(t_star))))
    return min(1.0, max(0.0, share))


def canceling_vector(objective: Objective, target: ParamDict, clean_grad_sum: Tensor, n: int,
                     z: Tensor, labels: Tensor, create_graph: bool = False) -> Tensor:
    """``G(z) = (1/n)(sum_clean grad l + sum_j grad l(z_j)) + (1 + n_p/n) r`` (flat)."""
    poison = flatten(objective.loss_sum_grad(target, z, labels, create_graph=create_graph))
    reg = flatten(objective.regularizer_grad(target))
    return (clean_grad_sum + poison) / n + (1 + z.shape[0] / n) * reg


def bounds_of(x: Tensor, lower: float | Tensor | None, upper: float | Tensor | None,
              clip_to_data: bool) -> tuple[Tensor | None, Tensor | None]:
    """The projection box: the clean per-feature range for GC-c, else ``[lower, upper]``."""
    if clip_to_data:
        return x.amin(dim=0), x.amax(dim=0)
    lo = None if lower is None else torch.as_tensor(lower, dtype=x.dtype, device=x.device)
    hi = None if upper is None else torch.as_tensor(upper, dtype=x.dtype, device=x.device)
    if lo is not None and hi is not None and bool((lo > hi).any()):
        raise PoisonError(f"box lower {lower} exceeds upper {upper}")
    return lo, hi


def _descend(objective: Objective, target: ParamDict, clean_sum: Tensor, n: int, z: Tensor,
             labels: Tensor) -> float:
    """Accumulate ``d(n/2 ||G(z)||^2)/dz`` into ``z.grad`` (in chunks, module docstring);
    return ``||G(z)||``."""
    chunk = objective.chunk
    if chunk is None or z.shape[0] <= chunk:
        vector = canceling_vector(objective, target, clean_sum, n, z, labels, create_graph=True)
        (0.5 * n * vector.pow(2).sum()).backward()
        return float(vector.detach().norm())
    vector = canceling_vector(objective, target, clean_sum, n, z.detach(), labels).detach()
    for start in range(0, z.shape[0], chunk):
        part = flatten(objective.loss_sum_grad(target, z[start:start + chunk],
                                               labels[start:start + chunk], create_graph=True))
        (part @ vector).backward()
    return float(vector.norm())


def gradient_canceling(objective: Objective, target: ParamDict, x: Tensor, y: Tensor,
                       eps_d: float, *, epochs: int = 1000, lr: float = 0.5,
                       momentum: float = 0.9, lower: float | Tensor | None = 0.0,
                       upper: float | Tensor | None = 1.0, clip_to_data: bool = False,
                       positive_share: float | None = None, seed: int = 0) -> Poisons:
    """Run GC against ``target`` on clean ``(x, y)``; see the module docstring."""
    if epochs < 1:
        raise PoisonError(f"epochs must be >= 1, got {epochs}")
    n = x.shape[0]
    z0, labels = initial_poisons(x, y, poison_count(n, eps_d), seed, positive_share)
    lo, hi = bounds_of(x, lower, upper, clip_to_data)
    target = {k: v.detach() for k, v in target.items()}
    clean_sum = flatten(objective.loss_sum_grad(target, x, y)).detach()
    z = z0.clamp(lo, hi) if (lo is not None or hi is not None) else z0
    z = z.detach().requires_grad_(True)
    optimizer = torch.optim.SGD([z], lr=lr, momentum=momentum)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    curve = []
    for _ in range(epochs):
        optimizer.zero_grad()
        norm = _descend(objective, target, clean_sum, n, z, labels)
        curve.append(norm / (1 + z.shape[0] / n))
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            if lo is not None or hi is not None:
                z.clamp_(lo, hi)
        if not bool(torch.isfinite(z).all()):
            raise PoisonError(f"poisons became NaN/inf at epoch {len(curve)} (lr={lr} too large?)")
    final = canceling_vector(objective, target, clean_sum, n, z.detach(), labels)
    curve.append(float(final.norm()) / (1 + z.shape[0] / n))
    return Poisons(z.detach(), labels, curve)


def least_squares_poison(objective_grad: Tensor, params: ParamDict, eps_d: float,
                         c_r: float) -> tuple[Tensor, Tensor]:
    r"""One poison point (weight ``eps_d``) that makes a least-squares target stationary.

    [derived from seed 002 Example 1] With clean objective gradient ``G = (G_w, G_b)`` and
    ``R = ||w||^2 / 2``, the mixture is stationary when
    ``G + eps_d [(w^T x_p + b - y_p)(x_p, 1) + c_r (w, 0)] = 0``: take
    ``x_p = (G_w + eps_d c_r w) / G_b`` and residual ``r = -G_b / eps_d``, so
    ``y_p = w^T x_p + b - r``.
    Any ``eps_d > 0`` works (threshold 0) as long as ``G_b != 0``.
    """
    g_w, g_b = objective_grad[:-1], float(objective_grad[-1])
    if abs(g_b) < 1e-12:
        raise PoisonError("least_squares_poison needs a non-zero bias gradient G_b")
    w, b = params["w"].reshape(-1), params["b"].reshape(())
    x_p = (g_w + eps_d * c_r * w) / g_b
    y_p = w @ x_p + b + g_b / eps_d
    return x_p.unsqueeze(0), y_p.reshape(1)


@poisoners.register("gc", tags={"model-targeted"})
@dataclass(frozen=True)
class GradientCanceling:
    """Gradient canceling (seed 002 Algorithm 1): poisons that zero the target's gradient.

    ``labels="clean"`` keeps the labels of the sampled clean points (paper); ``"tight"`` draws
    the share of +1 labels from :func:`tight_label_share` (binary logistic victims with bias).
    """

    epochs: int = 1000
    lr: float = 0.5
    momentum: float = 0.9
    labels: str = "clean"
    clip_to_data: ClassVar[bool] = False
    curve_name: ClassVar[str] = "mixture_grad_norm"

    def __post_init__(self) -> None:
        if self.labels not in LABEL_RULES:
            raise PoisonError(f"labels {self.labels!r} is not one of {LABEL_RULES}")
        if self.epochs < 1 or not (math.isfinite(self.lr) and self.lr > 0):
            raise PoisonError(f"epochs must be >= 1 and lr > 0, got {self.epochs}, {self.lr}")
        if not 0 <= self.momentum < 1:
            raise PoisonError(f"momentum must lie in [0, 1), got {self.momentum}")

    def poison(self, objective: Objective, target: ParamDict, clean: ParamDict, x: Tensor,
               y: Tensor, eps_d: float, lower: float | None, upper: float | None,
               seed: int) -> Poisons:
        share = None
        if self.labels == "tight":
            if objective.loss != "logistic":
                raise PoisonError("labels='tight' needs a binary logistic victim")
            eps_used = poison_count(x.shape[0], eps_d) / x.shape[0]
            share = tight_label_share(float(objective.gradient(target, x, y)[-1]), eps_used)
        return gradient_canceling(objective, target, x, y, eps_d, epochs=self.epochs, lr=self.lr,
                                  momentum=self.momentum, lower=lower, upper=upper,
                                  clip_to_data=self.clip_to_data, positive_share=share,
                                  seed=seed)


@poisoners.register("gc-c", tags={"model-targeted", "clipped"})
@dataclass(frozen=True)
class ClippedGradientCanceling(GradientCanceling):
    """GC-c (seed 002 §5.4): gradient canceling with poisons clipped to the clean data range."""

    clip_to_data: ClassVar[bool] = True


@poisoners.register("lsq-exact", tags={"model-targeted", "closed-form"})
@dataclass(frozen=True)
class ExactLeastSquares:
    """Least-squares canceling in closed form (seed 002 Example 1): ``n_p`` copies of one point.

    With ``eps_d = n_p / n`` exactly, :func:`least_squares_poison` gives the point whose copies
    make the target stationary, so retraining lands on it for any ``eps_d > 0``.  The curve holds
    ``||g(chi)||`` at the target before and after adding the copies.
    """

    curve_name: ClassVar[str] = "mixture_grad_norm"

    def poison(self, objective: Objective, target: ParamDict, clean: ParamDict, x: Tensor,
               y: Tensor, eps_d: float, lower: float | None, upper: float | None,
               seed: int) -> Poisons:
        if objective.loss != "squared":
            raise PoisonError("lsq-exact needs a least-squares victim, got loss "
                              f"{objective.loss!r}")
        n = x.shape[0]
        count = poison_count(n, eps_d)
        gradient = objective.gradient(target, x, y)
        x_p, y_p = least_squares_poison(gradient, target, count / n, objective.c_r)
        zs, labels = x_p.repeat(count, 1), y_p.repeat(count)
        after = objective.gradient(target, torch.cat([x, zs]), torch.cat([y, labels]))
        return Poisons(zs, labels, [float(gradient.norm()), float(after.norm())])

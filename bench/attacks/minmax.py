"""AGR-agnostic Min-Max and Min-Sum attacks (Shejwalkar & Houmansadr, NDSS 2021)."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.attacks.base import Attack, AttackContext, mean_centred_sq_distances, repeat_rows
from bench.registry import attacks

PERTURBATIONS = ("unit", "std", "sign")


def perturbation_direction(honest: Tensor, kind: str) -> Tensor:
    """``p``: ``-mean/||mean||`` ("unit"), ``-std`` ("std", unbiased), ``-sign(mean)`` ("sign")."""
    m_bar = honest.mean(dim=0)
    if kind == "unit":
        norm = m_bar.norm()
        return -m_bar / norm if norm > 0 else torch.zeros_like(m_bar)
    if kind == "std":
        return -honest.std(dim=0, unbiased=True)
    return -torch.sign(m_bar)


def largest_root(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """Largest root of ``a g^2 + 2 b g + c = 0`` for ``a > 0, c <= 0`` (so it is ``>= 0``).

    Computed without cancellation: ``(-b + r) / a`` when ``b <= 0``, else ``-c / (b + r)``,
    with ``r = sqrt(b^2 - a c)``.
    """
    r = torch.sqrt((b * b - a * c).clamp_min(0.0))
    return torch.where(b <= 0, (r - b) / a, -c / (b + r).clamp_min(torch.finfo(r.dtype).tiny))


class MinDistanceAttack(Attack):
    """Shared by ``minmax`` and ``minsum``: ``m = m_bar + gamma* p`` with the largest feasible
    ``gamma*``, where the feasible set ``{gamma >= 0: constraint}`` is an interval ``[0, gamma*]``
    because the constraint is a convex quadratic in ``gamma`` that holds at 0."""

    def __init__(self, perturbation: str = "std") -> None:
        super().__init__()
        if perturbation not in PERTURBATIONS:
            raise ValueError(
                f"{self.name}: perturbation must be one of {PERTURBATIONS}, got {perturbation!r}"
            )
        self.perturbation = perturbation

    def gamma(self, offsets: Tensor, p: Tensor, sq_dists: Tensor) -> Tensor:
        """Largest feasible ``gamma`` given ``offsets = m_bar - u_i`` and ``D[i, j]``."""
        raise NotImplementedError

    def forge(self, ctx: AttackContext) -> Tensor:
        honest = ctx.honest.double()
        m_bar = honest.mean(dim=0)
        p = perturbation_direction(honest, self.perturbation)
        if p @ p > 0:
            gamma = self.gamma(m_bar - honest, p, mean_centred_sq_distances(honest))
        else:
            gamma = torch.zeros((), dtype=honest.dtype, device=honest.device)
        self.log(f"{self.name}_gamma", float(gamma))
        return repeat_rows((m_bar + gamma * p).to(ctx.honest.dtype), ctx.f)


@attacks.register("minmax", tags={"omniscient"})
class MinMax(MinDistanceAttack):
    """Min-Max (Shejwalkar & Houmansadr, NDSS 2021, AGR-agnostic; all Byzantine clients send it).

    ``m = m_bar + gamma p`` with ``p`` = ``perturbation`` (default "std": ``-sigma``; "unit":
    ``-m_bar/||m_bar||``; "sign": ``-sign(m_bar)``) and ``gamma`` the largest value with::

        max_i ||m - u_i||^2 <= max_{i,j} ||u_i - u_j||^2

    i.e. the malicious update is no farther from any honest update than two honest updates are
    from each other.  The paper finds ``gamma`` by bisection from ``gamma_init``; each per-client
    constraint is a quadratic in ``gamma``, so we take the exact limit of that bisection, the
    smallest of the per-client largest roots (no tolerance or iteration count).  ``p = 0``
    (identical honest updates) gives ``gamma = 0``.  Logs ``minmax_gamma``.
    """

    name = "minmax"

    def gamma(self, offsets: Tensor, p: Tensor, sq_dists: Tensor) -> Tensor:
        a = p @ p
        c = (offsets * offsets).sum(dim=1) - sq_dists.max()
        return largest_root(a, offsets @ p, c.clamp_max(0.0)).min()


@attacks.register("minsum", tags={"omniscient"})
class MinSum(MinDistanceAttack):
    """Min-Sum (Shejwalkar & Houmansadr, NDSS 2021, AGR-agnostic; all Byzantine clients send it).

    ``m = m_bar + gamma p`` with ``p`` as in ``minmax`` (default "std") and ``gamma`` the largest
    value with::

        sum_i ||m - u_i||^2 <= max_i sum_j ||u_i - u_j||^2

    i.e. the malicious update's total squared distance to the honest updates is no larger than
    any honest update's.  The left side is the quadratic ``h ||p||^2 gamma^2 + 2 gamma sum_i
    <m_bar - u_i, p> + sum_i ||m_bar - u_i||^2``, so the paper's bisection limit is its largest
    root, computed exactly.  ``p = 0`` gives ``gamma = 0``.  Logs ``minsum_gamma``.
    """

    name = "minsum"

    def gamma(self, offsets: Tensor, p: Tensor, sq_dists: Tensor) -> Tensor:
        a = offsets.shape[0] * (p @ p)
        c = (offsets * offsets).sum() - sq_dists.sum(dim=1).max()
        return largest_root(a, (offsets @ p).sum(), c.clamp_max(0.0))

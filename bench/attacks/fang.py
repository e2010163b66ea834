"""Fang et al.'s full-knowledge local model poisoning attacks on trimmed mean / median and Krum."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.attacks.base import Attack, AttackContext, mean_centred_sq_distances, repeat_rows
from bench.registry import attacks

TARGETS = ("trim", "selection")


def krum_scores(updates: Tensor, f: int) -> Tensor:
    """Krum's score of every row: the sum of its ``n - f - 2`` smallest squared distances to the
    other rows (Blanchard et al., NeurIPS 2017).  Krum selects the row of smallest score."""
    n = updates.shape[0]
    k = n - f - 2
    if k < 1:
        raise ValueError(f"krum needs n - f - 2 >= 1, got n={n}, f={f}")
    dists = mean_centred_sq_distances(updates)
    others = dists + torch.diag(torch.full((n,), math.inf, dtype=dists.dtype, device=dists.device))
    return others.topk(k, dim=1, largest=False).values.sum(dim=1)


@attacks.register("fang", tags={"omniscient"})
class Fang(Attack):
    """Full-knowledge local model poisoning (Fang, Cao, Jia & Gong, USENIX Security 2020).

    Written in update space (the server steps ``theta <- theta - lr * AGG``), with ``u_i`` the
    ``h = n - f`` honest updates and ``s = sign(mean_i u_i)`` per coordinate (the paper's
    "changing direction" ``s_j`` is ``-s_j`` here, since the model moves by ``-lr * update``).
    ``target`` picks the rule attacked (values chosen so that no registered component name
    such as ``mean`` or ``krum`` appears in the attack's label, which test ids are made of):

    ``target="trim"`` (default; the paper's attack on trimmed mean and median).  Per
    coordinate ``j``, each Byzantine client draws independently (``ctx.generator``) a value
    beyond the honest extreme opposite to ``s_j``, uniformly in::

        s_j > 0:  [u_min_j / b, u_min_j]  if u_min_j > 0,  else  [b u_min_j, u_min_j]
        s_j < 0:  [u_max_j, b u_max_j]    if u_max_j > 0,  else  [u_max_j, u_max_j / b]
        s_j = 0:  mean_i u_ij

    with ``b = 2`` (the paper's value; ``b >= 1``, ``b = 1`` sends the extremes exactly).

    ``target="selection"`` (the paper's attack on Krum, hence on selection rules).  All
    Byzantine clients send ``-lam * s`` (the crafted model ``w_Re - lam s_model`` in update
    units), with ``lam`` halved from::

        lam_0 = min_i sum_{l in Gamma_i} ||u_l - u_i|| / ((n - 2f - 1) sqrt(d))
                + max_i ||u_i|| / sqrt(d)

    (``Gamma_i``: the ``n - f - 2`` honest updates nearest ``u_i``; ``||w_i - w_Re||`` becomes
    ``||u_i||``) until Krum, run on honest ∪ Byzantine with the attack's own implementation
    (:func:`krum_scores`, so no aggregator access is needed), selects a Byzantine update (ties
    go to the honest one), or ``lam`` falls below ``threshold = 1e-5``.  Logs ``fang_lambda``.
    """

    name = "fang"

    def __init__(self, target: str = "trim", b: float = 2.0, threshold: float = 1e-5) -> None:
        super().__init__()
        if target not in TARGETS:
            raise ValueError(f"fang: target must be one of {TARGETS}, got {target!r}")
        if not b >= 1:
            raise ValueError(f"fang: b must be >= 1, got {b}")
        if not threshold > 0:
            raise ValueError(f"fang: threshold must be > 0, got {threshold}")
        self.target, self.b, self.threshold = target, float(b), float(threshold)

    def forge(self, ctx: AttackContext) -> Tensor:
        if self.target == "trim":
            return self.trimmed_mean_attack(ctx)
        return repeat_rows(self.krum_attack(ctx), ctx.f)

    def trimmed_mean_attack(self, ctx: AttackContext) -> Tensor:
        honest, b = ctx.honest, self.b
        m_bar = ctx.honest_mean
        u_min, u_max = honest.min(dim=0).values, honest.max(dim=0).values
        far_below = torch.where(u_min > 0, u_min / b, u_min * b)
        far_above = torch.where(u_max > 0, u_max * b, u_max / b)
        near = torch.where(m_bar > 0, u_min, torch.where(m_bar < 0, u_max, m_bar))
        far = torch.where(m_bar > 0, far_below, torch.where(m_bar < 0, far_above, m_bar))
        r = torch.rand(
            (ctx.f, honest.shape[1]), generator=ctx.generator, device=honest.device,
            dtype=honest.dtype,
        )
        return near + r * (far - near)

    def krum_attack(self, ctx: AttackContext) -> Tensor:
        honest, f = ctx.honest, ctx.f
        h, d = honest.shape
        n = h + f
        if n - 2 * f - 1 < 1 or n - f - 2 < 1:
            raise ValueError(f"fang (selection): needs n > 2f + 1, got n={n}, f={f}")
        s = torch.sign(ctx.honest_mean)
        dists = mean_centred_sq_distances(honest.double()).sqrt()
        others = dists + torch.diag(torch.full((h,), math.inf, dtype=dists.dtype,
                                               device=dists.device))
        nearest = others.topk(n - f - 2, dim=1, largest=False).values.sum(dim=1)
        lam = float(nearest.min()) / ((n - 2 * f - 1) * math.sqrt(d))
        lam += float(honest.norm(dim=1).max()) / math.sqrt(d)
        while lam >= self.threshold:
            forged = repeat_rows(-lam * s, f)
            if int(krum_scores(torch.cat([honest, forged]), f).argmin()) >= h:
                break
            lam /= 2.0
        self.log("fang_lambda", lam)
        return -lam * s

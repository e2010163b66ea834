"""Server aggregation threat models of seed 000 (Appendix C) and the recovered offset against each.

``N`` clients send gradients ``G_n`` (rows of ``Tensor[N, d]``); the attacker controls a set ``S``
of ``M`` of them and wants the server's aggregate to be ``G_poi``.  ``Clip_η`` is not defined in
the seed (notes §II.8.3); both readings are offered:

    ℓ2:  Clip_η(v) = v · min(1, η / ||v||_2)          ℓ∞:  Clip_η(v)_i = clamp(v_i, -η, η)

Each threat model gives the server's rule (:meth:`ThreatModel.aggregate`) and the attacker's
optimal rows for ``S`` (:meth:`ThreatModel.offset`), given the other clients' gradients.
"""

from __future__ import annotations

import torch
from torch import Tensor

from bench.online.perturb import NORMS
from bench.registry import threatmodels


def clip(rows: Tensor, bound: float, norm: str) -> Tensor:
    """``Clip_bound`` of each row of ``Tensor[..., d]`` (ℓ2 rescale or ℓ∞ clamp; see module)."""
    if norm == "linf":
        return rows.clamp(-bound, bound)
    length = rows.norm(dim=-1, keepdim=True)
    return rows * torch.clamp(bound / length.clamp_min(torch.finfo(rows.dtype).tiny), max=1.0)


def _check_rows(honest: Tensor, target: Tensor, attacked: int, who: str) -> None:
    if honest.dim() != 2 or target.shape != honest.shape[1:]:
        raise ValueError(
            f"{who}: honest must be Tensor[N - M, d] and target Tensor[d], got "
            f"{tuple(honest.shape)} and {tuple(target.shape)}"
        )
    if attacked < 1:
        raise ValueError(f"{who}: attacked (M) must be >= 1, got {attacked}")


class ThreatModel:
    """How the server combines client gradients, and the recovered offset that steers it."""

    name = "threat model"

    def aggregate(self, updates: Tensor) -> Tensor:
        raise NotImplementedError

    def offset(self, target: Tensor, honest: Tensor, attacked: int = 1) -> Tensor:
        """The ``M = attacked`` rows ``A_m`` that bring the aggregate closest to ``target``."""
        raise NotImplementedError


@threatmodels.register("noclip")
class NoClip(ThreatModel):
    """No gradient clip, ``G = Σ_n G_n`` (seed 000 §C.1).

    Recovered offset: ``A(G_j) = G_poi - Σ_{n≠j} G_n``, so ``A(G_j) + Σ_{n≠j} G_n = G_poi``
    exactly with one client (a poisoning ratio of 1/N).  With ``M`` attacked clients the offset is
    split evenly, ``A_m = (G_poi - Σ_{n∉S} G_n) / M``, which reaches the same sum.
    """

    name = "noclip"

    def aggregate(self, updates: Tensor) -> Tensor:
        return updates.sum(dim=0)

    def offset(self, target: Tensor, honest: Tensor, attacked: int = 1) -> Tensor:
        _check_rows(honest, target, attacked, self.name)
        share = (target - honest.sum(dim=0)) / attacked
        return share.unsqueeze(0).expand(attacked, -1).clone()


class _Clipped(ThreatModel):
    def __init__(self, bound: float, norm: str = "l2") -> None:
        if not bound > 0:
            raise ValueError(f"{self.name}: bound (the clip bound η) must be > 0, got {bound}")
        if norm not in NORMS:
            raise ValueError(f"{self.name}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
        self.bound, self.norm = float(bound), norm


@threatmodels.register("clip-after")
class ClipAfter(_Clipped):
    """Gradient clip after aggregation, ``G = Clip_η(Σ_n G_n)`` (seed 000 §C.2).

    The no-clip offset still works: ``Clip_η(A(G_j) + Σ_{n≠j} G_n) = Clip_η(G_poi)``.
    """

    name = "clip-after"

    def aggregate(self, updates: Tensor) -> Tensor:
        return clip(updates.sum(dim=0), self.bound, self.norm)

    def offset(self, target: Tensor, honest: Tensor, attacked: int = 1) -> Tensor:
        return NoClip().offset(target, honest, attacked)


@threatmodels.register("clip-before")
class ClipBefore(_Clipped):
    """Gradient clip before aggregation, ``G = Σ_n Clip_η(G_n)`` (seed 000 §C.3).

    With ``r = G_poi - Σ_{n∉S} Clip_η(G_n)``, the sums ``Σ_{m∈S} Clip_η(A_m)`` fill exactly the
    ball (ℓ2) or box (ℓ∞) of radius ``Mη``, so the closest reachable aggregate is
    ``Σ_{n∉S} Clip_η(G_n) + Clip_{Mη}(r)``, reached by the split ``A_m = Clip_{Mη}(r) / M``.  When
    ``||r|| >= Mη`` (every ``|r_i| >= Mη`` for ℓ∞; the seed's "η small") this equals the seed's
    identical copies ``A_m = r``, since ``M Clip_η(r) = Clip_{Mη}(r)`` there; when ``||r|| <= Mη``
    the split reaches ``G_poi`` exactly, where identical copies would overshoot (notes §II.3.3).
    """

    name = "clip-before"

    def aggregate(self, updates: Tensor) -> Tensor:
        return clip(updates, self.bound, self.norm).sum(dim=0)

    def residual(self, target: Tensor, honest: Tensor) -> Tensor:
        """``r = G_poi - Σ_{n∉S} Clip_η(G_n)``, what the attacked clients must add."""
        return target - clip(honest, self.bound, self.norm).sum(dim=0)

    def offset(self, target: Tensor, honest: Tensor, attacked: int = 1) -> Tensor:
        _check_rows(honest, target, attacked, self.name)
        reachable = clip(self.residual(target, honest), attacked * self.bound, self.norm)
        return (reachable / attacked).unsqueeze(0).expand(attacked, -1).clone()

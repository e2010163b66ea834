"""Centered clipping around the previous aggregate."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows
from bench.aggregators.distances import distances_to, weighted_differences
from bench.registry import aggregators


def clip_scales(norms: Tensor, radius: float) -> Tensor:
    """``min(1, radius / ||v||)`` for each norm (norm 0 gives 1)."""
    return torch.clamp(radius / norms.clamp_min(torch.finfo(norms.dtype).tiny), max=1.0)


def clip_to_radius(deltas: Tensor, radius: float) -> Tensor:
    """Scale each row ``v`` to ``v * min(1, radius / ||v||)`` (rows of norm 0 stay 0)."""
    return deltas * clip_scales(deltas.norm(dim=1, keepdim=True), radius)


def centred_clipping_step(updates: Tensor, v: Tensor, radius: float) -> Tensor:
    """``v + (1/n) sum_i (u_i - v) min(1, radius / ||u_i - v||)`` without ``[n, d]`` copies.

    Two blocked passes over the updates (:func:`~bench.aggregators.distances.distances_to`,
    then :func:`~bench.aggregators.distances.weighted_differences`); the differences are never
    materialised whole.
    """
    scales = clip_scales(distances_to(updates, v), radius)
    return v + weighted_differences(updates, v, scales / updates.shape[0])


@aggregators.register("cc", tags={"stateful", "clipping"})
class CenteredClipping(Aggregator):
    """Centered clipping (Karimireddy, He & Jaggi, ICML 2021; seed 003 Eq. 6, Algorithm 2).

    With reference ``v`` (the previous round's aggregate, zeros at the start), repeat L times::

        v <- v + (1/n) * sum_i (u_i - v) * min(1, tau / ||u_i - v||)

    and keep ``v`` as the next round's reference.  Seed 003 uses ``tau`` in {0.1, 1} and
    ``L = 1``, with no (1 - beta) rescaling of ``tau``.  Non-finite rows are replaced by the
    reference before clipping, so they contribute nothing.  :meth:`reset` zeroes the reference.
    """

    name = "cc"

    def __init__(self, f: int = 0, tau: float = 1.0, iterations: int = 1) -> None:
        super().__init__(f)
        if not tau > 0:
            raise ValueError(f"cc: tau must be > 0, got {tau}")
        if iterations < 1:
            raise ValueError(f"cc: iterations must be >= 1, got {iterations}")
        self.tau = float(tau)
        self.iterations = int(iterations)
        self.reference: Tensor | None = None

    def aggregate(self, updates: Tensor) -> Tensor:
        v = self.reference
        if v is None or v.shape[0] != updates.shape[1]:
            v = torch.zeros(updates.shape[1], dtype=updates.dtype, device=updates.device)
        finite = finite_rows(updates)
        clean = bool(finite.all())
        for _ in range(self.iterations):
            safe = updates if clean else torch.where(finite[:, None], updates, v)
            v = centred_clipping_step(safe, v, self.tau)
        self.reference = v.detach().clone()
        return v

    def reset(self) -> None:
        self.reference = None

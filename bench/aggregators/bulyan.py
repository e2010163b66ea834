"""Bulyan: iterated Krum selection, then a mean around the coordinate-wise median."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.aggregators.distances import pairwise_sq_distances
from bench.aggregators.krum import krum_scores
from bench.aggregators.median import mean_around_median
from bench.registry import aggregators


@aggregators.register("bulyan", tags={"distance-based", "coordinate-wise"})
class Bulyan(Aggregator):
    """Bulyan (El Mhamdi, Guerraoui & Rouault, ICML 2018; seed 003 §II).

    1. Selection: ``theta = n - 2f`` times, run Krum on the updates not yet selected
       (``R``, scores over the ``max(1, |R| - f - 2)`` nearest others in ``R``; the ``max``
       covers the last rounds, where ``|R| - f - 2`` drops below 1) and move its choice to
       the selection ``S``.
    2. Aggregation: per coordinate, average the ``beta = theta - 2f`` values of ``S`` closest
       to the coordinate-wise median of ``S`` (the ``meamed`` window).

    Hyperparameter: ``f``.  Requires ``n >= 4f + 3`` (clear error otherwise).  The distance
    matrix is computed once (one centred Gram product); the selection loop is sequential by
    definition and costs ``O(theta * n^2)`` on top.  Non-finite rows are never selected.
    """

    name = "bulyan"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        return bulyan(updates, self.f)


def bulyan(updates: Tensor, f: int, reference: bool = False) -> Tensor:
    """Bulyan of ``Tensor[n, d]`` (see :class:`Bulyan`); ``reference=True`` runs the coordinate
    phase on a copy of the selected rows with ``torch.sort`` (the oracle of the network path)."""
    n = updates.shape[0]
    if n < 4 * f + 3:
        raise ValueError(f"bulyan: needs n >= 4f + 3, got n={n}, f={f}")
    theta = n - 2 * f
    sq = pairwise_sq_distances(updates).sq
    remaining = torch.ones(n, dtype=torch.bool, device=updates.device)
    selected = []
    for left in range(n, n - theta, -1):
        live = remaining[:, None] & remaining[None, :]
        scores = krum_scores(torch.where(live, sq, float("inf")), max(1, left - f - 2))
        # A remaining row always beats a selected one, even when it has no neighbour left.
        top = torch.finfo(scores.dtype).max
        scores = torch.where(remaining, scores.clamp(max=top), float("inf"))
        choice = int(scores.argmin())
        selected.append(choice)
        remaining[choice] = False
    chosen = torch.tensor(selected, device=updates.device)
    if reference:
        return mean_around_median(torch.index_select(updates, 0, chosen), theta - 2 * f,
                                  reference=True)
    return mean_around_median(updates, theta - 2 * f, rows=chosen)

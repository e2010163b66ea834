"""Krum and Multi-Krum: keep the updates closest to their nearest neighbours."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, check_int
from bench.aggregators.distances import pairwise_sq_distances
from bench.registry import aggregators


def krum_scores(sq: Tensor, neighbours: int) -> Tensor:
    """``score_i = sum of the squared distances from row i to its `neighbours` nearest others``.

    ``sq`` is the ``[n, n]`` squared-distance matrix (``inf`` marks non-finite rows); the
    diagonal is excluded.  Rows of ``inf`` distances score ``inf``.
    """
    others = sq.clone().fill_diagonal_(float("inf"))
    return others.topk(neighbours, dim=1, largest=False).values.sum(dim=1)


def krum_neighbours(n: int, f: int, who: str) -> int:
    """``n - f - 2`` nearest neighbours; a clear error when that is below 1."""
    k = n - f - 2
    if k < 1:
        raise ValueError(f"{who}: needs n - f - 2 >= 1 neighbours, got n={n}, f={f}")
    return k


@aggregators.register("krum", tags={"distance-based"})
class Krum(Aggregator):
    """Krum (Blanchard, El Mhamdi, Guerraoui & Stainer, NeurIPS 2017; seed 003 §II).

    ``score(i) = sum_{j in N_i} ||u_i - u_j||^2`` with ``N_i`` the ``n - f - 2`` nearest other
    updates; output the update of lowest score (ties: lowest index).  Hyperparameter: ``f``.
    Needs ``f < n/2`` and ``n >= f + 3``.  Non-finite rows are infinitely far (never chosen).
    Distances: one centred Gram product (:mod:`bench.aggregators.distances`), ``O(n^2 d)``.
    """

    name = "krum"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        k = krum_neighbours(updates.shape[0], self.f, self.name)
        scores = krum_scores(pairwise_sq_distances(updates).sq, k)
        return updates[int(scores.argmin())]


@aggregators.register("multikrum", tags={"distance-based"})
class MultiKrum(Aggregator):
    """Multi-Krum (Blanchard et al., NeurIPS 2017; El Mhamdi et al., ICML 2018).

    Krum scores as in ``krum``; output the average of the ``m`` updates of lowest score.
    Hyperparameters: ``f``, ``m`` (default ``n - f``; ``m = 1`` is Krum).  Needs ``f < n/2``,
    ``n >= f + 3`` and ``1 <= m <= n``.  Non-finite rows score ``inf`` and are chosen last.
    """

    name = "multikrum"
    needs_majority = True

    def __init__(self, f: int = 0, m: int | None = None) -> None:
        super().__init__(f)
        self.m = None if m is None else check_int(m, "m", "multikrum", 1)

    def aggregate(self, updates: Tensor) -> Tensor:
        n = updates.shape[0]
        m = n - self.f if self.m is None else self.m
        if m > n:
            raise ValueError(f"multikrum: m must be <= n, got m={m} with n={n} updates")
        k = krum_neighbours(n, self.f, self.name)
        distances = pairwise_sq_distances(updates)
        scores = krum_scores(distances.sq, k)
        chosen = scores.topk(m, largest=False).indices
        if not bool(distances.finite.all()):
            return torch.index_select(updates, 0, chosen).mean(dim=0)
        # The average as one product with 1/m weights: no copy of the chosen rows.
        weights = updates.new_zeros(n).index_fill_(0, chosen, 1.0 / m)
        return weights @ updates

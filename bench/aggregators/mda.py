"""Minimum-diameter averaging (MDA): average the ``n - f`` updates of smallest diameter."""

from __future__ import annotations

from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.aggregators.distances import pairwise_sq_distances
from bench.aggregators.subsets import best_subset
from bench.registry import aggregators


@aggregators.register("mda", tags={"distance-based", "combinatorial"})
class MinimumDiameterAveraging(Aggregator):
    """Minimum-diameter averaging (El Mhamdi, Guerraoui, Guirguis, Hoang & Rouault, "Genuinely
    distributed Byzantine machine learning", PODC 2020; ByzFL's ``MDA``).

    ::

        S* = argmin_{|S| = n - f} max_{i, j in S} ||u_i - u_j||,   MDA(U) = mean_{i in S*} u_i

    Exhaustive over the ``binom(n, f)`` subsets (refused above one million, e.g. n = 25 with
    f = 10); ties go to the first subset in lexicographic order of the left-out rows.
    Hyperparameter: ``f``.  Needs ``f < n/2``.  Rows with a NaN or Inf entry are infinitely
    far from every row, so a subset containing one has infinite diameter.

    >>> import torch
    >>> MinimumDiameterAveraging(f=1)(torch.tensor([[0.0], [1.0], [2.0], [10.0]]))
    tensor([1.])
    """

    name = "mda"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        sq = pairwise_sq_distances(updates).sq
        n = updates.shape[0]

        def diameter(masks: Tensor) -> Tensor:
            both = masks[:, :, None] & masks[:, None, :]
            return sq.masked_fill(~both, 0.0).amax(dim=(1, 2))

        kept = best_subset(n, self.f, self.name, updates.device, diameter)
        return updates[kept].mean(dim=0)

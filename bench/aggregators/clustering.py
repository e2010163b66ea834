"""Clustering: keep the larger of two cosine clusters of updates and average it."""

from __future__ import annotations

from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows
from bench.aggregators.linkage import average_linkage_split, cosine_distances
from bench.registry import aggregators


def majority_cluster_mean(updates: Tensor) -> Tensor:
    """Mean of the finite rows of the larger average-linkage cluster (of all finite rows when
    that cluster holds none)."""
    finite = finite_rows(updates)
    chosen = average_linkage_split(cosine_distances(updates)) & finite
    if not bool(chosen.any()):
        chosen = finite
    return updates[chosen].mean(dim=0)


@aggregators.register("clustering", tags={"clustering"})
class Clustering(Aggregator):
    """Cosine clustering (Sattler, Müller, Wiegand & Samek, "On the Byzantine robustness of
    clustered federated learning", ICASSP 2020; Blades' ``Clustering``).

    Split the updates in two by agglomerative clustering with average linkage on the cosine
    distance ``1 - cos(u_i, u_j)`` and output the mean of the larger cluster::

        (C_1, C_2) = AvgLinkage_2({1 - cos(u_i, u_j)}),   agg(U) = mean_{i in larger C} u_i

    No hyperparameters; ``f`` is not used.  Non-finite rows sit at distance 2 from all and are
    never averaged (:mod:`bench.aggregators.linkage`).  Needs ``f < n/2``.

    >>> import torch
    >>> Clustering()(torch.tensor([[1.0, 0.0], [1.0, 0.2], [1.0, -0.2], [-1.0, 0.0]]))
    tensor([1., 0.])
    """

    name = "clustering"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        return majority_cluster_mean(updates)

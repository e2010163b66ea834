"""Clipped clustering: clip to the median of all norms seen so far, then cosine clustering."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows, zero_rows
from bench.aggregators.clipping import clip_to_radius
from bench.aggregators.clustering import majority_cluster_mean
from bench.registry import aggregators


@aggregators.register("clipcluster", tags={"clustering", "clipping", "stateful"})
class ClippedClustering(Aggregator):
    """Clipped clustering (Li, Xie, Chen, Wang, Shi, Zhang & Liu / Blades, "An experimental
    study of Byzantine-robust aggregation schemes in federated learning", IEEE TBD 2023;
    Blades' ``Clippedclustering``).

    Each round, append the ``n`` update norms to a history ``H`` kept on the instance, clip
    every update to ``tau = median(H)`` (the average of the two middle norms for an even
    count, as numpy's median), then aggregate as ``clustering`` (average-linkage
    two-cluster split on cosine distances, mean of the larger cluster)::

        u_i' = u_i min(1, tau / ||u_i||),  agg(U) = mean_{i in larger C} u_i'

    The median over all rounds' norms, not the current round's alone, keeps a majority of
    large Byzantine norms in one round from lifting the threshold.  ``f`` is not used.  Norms
    of non-finite rows are not recorded and those rows are never averaged.  Needs ``f < n/2``.
    :meth:`reset` forgets the history.

    >>> import torch
    >>> ClippedClustering()(torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.6, 0.8], [-9.0, 0.0]]))
    tensor([1.0000, 1.3333])
    """

    name = "clipcluster"
    needs_majority = True

    def __init__(self, f: int = 0) -> None:
        super().__init__(f)
        self.norms: list[Tensor] = []

    def aggregate(self, updates: Tensor) -> Tensor:
        finite = finite_rows(updates)
        safe = zero_rows(updates, finite)
        self.norms.append(safe.norm(dim=1)[finite].detach().cpu())
        tau = float(torch.cat(self.norms).double().quantile(0.5))
        clipped = torch.where(finite[:, None], clip_to_radius(safe, tau), updates)
        return majority_cluster_mean(clipped)

    def reset(self) -> None:
        self.norms = []

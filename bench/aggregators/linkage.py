"""Two-cluster agglomerative clustering with average linkage on cosine distances.

Shared by ``clustering`` and ``clipcluster``.  Start from singletons and repeatedly merge the
two clusters of smallest average pairwise distance (ties: the lowest pair of cluster indices)
until two clusters remain; ``O(n^3)`` on the ``[n, n]`` distance matrix, fine for tens of
clients.  Cosine distance is ``1 - cos(u_i, u_j)`` in ``[0, 2]``; a zero or non-finite row is
at the maximal distance 2 from every other row, as in Blades' ``Clippedclustering``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import finite_rows, zero_rows


def cosine_distances(updates: Tensor) -> Tensor:
    """``[n, n]`` float64 matrix ``1 - cos(u_i, u_j)``; 2 for zero or non-finite rows."""
    finite = finite_rows(updates)
    rows = zero_rows(updates, finite).double()
    norms = rows.norm(dim=1)
    usable = finite & (norms > 0)
    units = rows / norms.clamp_min(torch.finfo(rows.dtype).tiny)[:, None]
    distances = (1.0 - units @ units.T).clamp(0.0, 2.0)
    both = usable[:, None] & usable[None, :]
    return torch.where(both, distances, 2.0).fill_diagonal_(0.0)


def average_linkage_split(distances: Tensor) -> Tensor:
    """Boolean mask of the larger of the two average-linkage clusters (ties: the one holding
    row 0)."""
    n = distances.shape[0]
    clusters = [[i] for i in range(n)]
    while len(clusters) > 2:
        best, pair = float("inf"), (0, 1)
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                link = float(distances[clusters[a]][:, clusters[b]].mean())
                if link < best:
                    best, pair = link, (a, b)
        a, b = pair
        clusters[a] = clusters[a] + clusters.pop(b)
    chosen = max(clusters, key=lambda c: (len(c), 0 in c))
    mask = torch.zeros(n, dtype=torch.bool, device=distances.device)
    mask[chosen] = True
    return mask

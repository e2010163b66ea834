"""FLAME: HDBSCAN on cosine distances, clipping to the median norm, and Gaussian noise."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import HDBSCAN
from torch import Tensor

from bench.aggregators.base import (
    Aggregator,
    call_generator,
    check_int,
    finite_rows,
    zero_rows,
)
from bench.aggregators.clipping import clip_to_radius
from bench.aggregators.linkage import cosine_distances
from bench.registry import aggregators


def majority_density_cluster(distances: Tensor) -> Tensor:
    """Mask of HDBSCAN's largest cluster (``min_cluster_size = n//2 + 1``, ``min_samples = 1``,
    a single cluster allowed) on a precomputed ``[n, n]`` distance matrix; outliers are out."""
    n = distances.shape[0]
    if n < 3:
        return torch.ones(n, dtype=torch.bool)
    labels = HDBSCAN(
        min_cluster_size=n // 2 + 1, min_samples=1, metric="precomputed", copy=True,
        allow_single_cluster=True,
    ).fit(distances.cpu().numpy().astype(np.float64)).labels_
    clustered = labels[labels >= 0]
    if clustered.size == 0:
        return torch.ones(n, dtype=torch.bool)
    return torch.from_numpy(labels == np.bincount(clustered).argmax())


@aggregators.register("flame", tags={"clustering", "clipping", "randomized", "noise"})
class FLAME(Aggregator):
    """FLAME (Nguyen et al., "FLAME: Taming backdoors in federated learning", USENIX Security
    2022, Algorithm 1).

    1. Admit the largest HDBSCAN cluster of the cosine distances ``1 - cos(u_i, u_j)``
       (``min_cluster_size = n/2 + 1``): the rest are outliers.
    2. Clip every admitted update to ``S = median_i ||u_i||`` (over all finite rows).
    3. Average and add noise::

           agg(U) = mean_{i admitted} u_i min(1, S / ||u_i||) + N(0, (lambda S)^2 I)

    The paper adds ``N(0, (lambda S_w)^2)`` to the global model, ``S_w`` the median distance of
    the local models to it; under FedSGD ``w_i - w = -lr u_i``, so noise ``lambda S`` on the
    aggregate is exactly the paper's noise on the model.  Hyperparameters: ``noise`` (lambda,
    default 0.001, the paper's value for image classification), ``seed`` (default 0): the
    i-th call draws from :func:`~bench.aggregators.base.call_generator` ``(seed, i)``;
    :meth:`reset` restarts the count.  ``f`` is not used.  Rows with a NaN or Inf entry are
    outliers.  Needs ``f < n/2``.

    >>> import torch
    >>> rows = torch.tensor([[1.0, 0.0], [1.0, 0.1], [1.0, -0.1], [0.9, 0.0], [-5.0, 0.0]])
    >>> FLAME(noise=0.0)(rows)
    tensor([0.9750, 0.0000])
    """

    name = "flame"
    needs_majority = True

    def __init__(self, f: int = 0, noise: float = 0.001, seed: int = 0) -> None:
        super().__init__(f)
        number = isinstance(noise, (int, float)) and not isinstance(noise, bool)
        if not number or not 0 <= noise < float("inf"):
            raise ValueError(f"flame: noise must be a finite number >= 0, got {noise!r}")
        self.noise = float(noise)
        self.seed = check_int(seed, "seed", "flame", 0)
        self.calls = 0

    def aggregate(self, updates: Tensor) -> Tensor:
        finite = finite_rows(updates)
        safe = zero_rows(updates, finite)
        index = finite.nonzero().flatten()
        admitted = torch.zeros_like(finite)
        admitted[index] = majority_density_cluster(cosine_distances(safe[index])).to(finite.device)
        bound = float(safe[finite].norm(dim=1).double().quantile(0.5))
        out = clip_to_radius(safe[admitted], bound).mean(dim=0)
        generator = call_generator(self.seed, self.calls)
        self.calls += 1
        if self.noise > 0:
            draw = torch.randn(out.shape, generator=generator, dtype=out.dtype)
            out = out + self.noise * bound * draw.to(out.device)
        return out

    def reset(self) -> None:
        self.calls = 0

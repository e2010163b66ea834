"""SignGuard: norm filtering and sign-statistics clustering, then median-norm clipping."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import MeanShift, estimate_bandwidth
from torch import Tensor

from bench.aggregators.base import (
    Aggregator,
    call_generator,
    check_int,
    check_positive,
    finite_rows,
    zero_rows,
)
from bench.aggregators.clipping import clip_to_radius
from bench.registry import aggregators


def sign_features(window: Tensor) -> np.ndarray:
    """``[n, 3]`` fractions of positive, zero and negative entries, each column divided by its
    maximum (plus 1e-8)."""
    signs = window.sign()
    fractions = torch.stack([(signs == s).double().mean(dim=1) for s in (1.0, 0.0, -1.0)], dim=1)
    return (fractions / (fractions.max(dim=0).values + 1e-8)).cpu().numpy()


def largest_mean_shift_cluster(features: np.ndarray) -> np.ndarray:
    """Mask of the largest mean-shift cluster (bandwidth: the 0.5-quantile estimate, 0.1 when
    that is 0; bin seeding; points left unassigned belong to no cluster)."""
    bandwidth = estimate_bandwidth(features, quantile=0.5)
    labels = MeanShift(bandwidth=bandwidth if bandwidth > 0 else 0.1, bin_seeding=True,
                       cluster_all=False).fit(features).labels_
    clustered = labels[labels >= 0]
    if clustered.size == 0:
        return np.ones(len(labels), dtype=bool)
    return labels == np.bincount(clustered).argmax()


@aggregators.register("signguard", tags={"sign-based", "clustering", "randomized"})
class SignGuard(Aggregator):
    """SignGuard (Xu, Huang, Song & Lan, "Byzantine-robust federated learning through
    collaborative malicious gradient filtering", ICDCS 2022, Algorithm 1; Blades'
    ``Signguard``).

    With ``M = median_i ||u_i||``:

    1. norm filter: keep ``i`` with ``low * M < ||u_i|| < high * M``;
    2. sign filter: on a random window of ``ceil(fraction * d)`` consecutive coordinates,
       cluster the clients' (positive, zero, negative) sign fractions by mean shift and keep
       the largest cluster;
    3. output the mean over the rows kept by both filters of ``u_i min(1, M / ||u_i||)``
       (over all finite rows if no row is kept by both).

    Hyperparameters: ``low`` (0.1), ``high`` (3.0), ``fraction`` (0.1), ``seed`` (0): the i-th
    call draws its window from :func:`~bench.aggregators.base.call_generator` ``(seed, i)``;
    :meth:`reset` restarts the count.  ``f`` is not used.  Rows with a NaN or Inf entry are
    never kept; their norm counts as 0 in the median (as in the authors' code).

    >>> import torch
    >>> rows = torch.tensor([[1.0, 1.0], [1.0, 2.0], [2.0, 1.0], [-30.0, -30.0]])
    >>> SignGuard(fraction=1.0)(rows)
    tensor([1.3333, 1.3333])
    """

    name = "signguard"

    def __init__(self, f: int = 0, low: float = 0.1, high: float = 3.0, fraction: float = 0.1,
                 seed: int = 0) -> None:
        super().__init__(f)
        self.low = check_positive(low, "low", "signguard")
        self.high = check_positive(high, "high", "signguard")
        self.fraction = check_positive(fraction, "fraction", "signguard")
        if self.low >= self.high or self.fraction > 1:
            raise ValueError(
                f"signguard: needs low < high and fraction <= 1, got low={low}, high={high}, "
                f"fraction={fraction}"
            )
        self.seed = check_int(seed, "seed", "signguard", 0)
        self.calls = 0

    def aggregate(self, updates: Tensor) -> Tensor:
        n, d = updates.shape
        finite = finite_rows(updates)
        safe = zero_rows(updates, finite)
        norms = safe.norm(dim=1)
        median = float(norms.double().quantile(0.5))
        by_norm = finite & (norms > self.low * median) & (norms < self.high * median)
        width = max(1, int(np.ceil(self.fraction * d)))
        generator = call_generator(self.seed, self.calls)
        self.calls += 1
        start = int(torch.randint(0, d - width + 1, (1,), generator=generator))
        by_sign = largest_mean_shift_cluster(sign_features(safe[:, start : start + width]))
        kept = by_norm & torch.from_numpy(by_sign).to(finite.device)
        if not bool(kept.any()):
            kept = finite
        return clip_to_radius(safe[kept], median).mean(dim=0)

    def reset(self) -> None:
        self.calls = 0

"""Coordinate-wise trimmed mean."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.aggregators.selection import network_plan, run_network, use_network
from bench.registry import aggregators


def trimmed_mean(updates: Tensor, b: int, reference: bool = False) -> Tensor:
    """Per column, the mean of the values of ranks ``b .. n - b - 1`` (``Tensor[n, d]``).

    NaN sorts as ``+inf`` and ``+-inf`` as the largest/smallest finite number (as in
    ``torch.nan_to_num(values, nan=inf)``).  On a CPU with ``n <= 128`` the kept values come as
    a set from a pruned comparator network (:mod:`bench.aggregators.selection`) and are summed
    in another order than the sort's (equal to round-off); elsewhere, or with
    ``reference=True``, from ``torch.sort``.
    """
    n = updates.shape[0]
    if b == 0:
        return updates.mean(dim=0)
    if reference or not use_network(updates):
        ordered = torch.nan_to_num(updates, nan=float("inf")).sort(dim=0).values
        return ordered[b : n - b].mean(dim=0)
    kept = tuple(range(b, n - b))

    def finish(lines: Sequence[Tensor], out: Tensor) -> None:
        out.copy_(lines[kept[0]])
        for r in kept[1:]:
            out.add_(lines[r])
        out.div_(len(kept))

    return run_network(updates, network_plan(n, (kept,)), finish)


@aggregators.register("tm", tags={"coordinate-wise"})
class TrimmedMean(Aggregator):
    """Coordinate-wise trimmed mean (Yin et al., ICML 2018; seed 003 §II, TM).

    For every coordinate j, sort the n values, drop the ``b`` largest and ``b`` smallest, and
    average the remaining ``n - 2b``::

        [TM(U)]_j = 1/(n - 2b) * sum_{i=b+1}^{n-b} U_{(i), j}

    (seed 003 prints the index range off by one).  ``b`` defaults to ``f``.  Non-finite values
    are sorted to the ends (NaN as +inf), so at most ``b`` non-finite rows are trimmed away.
    """

    name = "tm"

    def __init__(self, f: int = 0, b: int | None = None) -> None:
        super().__init__(f)
        self.b = f if b is None else b
        if self.b < 0:
            raise ValueError(f"tm: b must be >= 0, got {self.b}")

    def aggregate(self, updates: Tensor) -> Tensor:
        n = updates.shape[0]
        if 2 * self.b >= n:
            raise ValueError(f"tm: needs n > 2b, got n={n}, b={self.b}")
        return trimmed_mean(updates, self.b)

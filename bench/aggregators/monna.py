"""MoNNA: average the ``n - f`` nearest neighbours of a trusted pivot update."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, check_int, finite_rows
from bench.registry import aggregators


@aggregators.register("monna", tags={"distance-based", "row-order"})
class MoNNA(Aggregator):
    """MoNNA (Farhadkhani, Guerraoui, Gupta, Hoang, Pinot & Stephan, "Robust collaborative
    learning with linear gradient overhead", ICML 2023; ByzFL's ``MoNNA``).

    With ``p = u_pivot`` an update known to be correct::

        MoNNA(U) = (1/(n - f)) sum_{i in N_p} u_i,   N_p = the n - f rows nearest to p

    (``p`` itself is in ``N_p``; ties go to the lower row index).  In the peer-to-peer setting
    of the paper the pivot is the aggregating node's own vector.  The simulator passes rows in
    fixed client order, honest clients first, so the default ``pivot = 0`` is an honest client
    (the rule is therefore not invariant to row order).  Hyperparameters: ``f``, ``pivot``.
    Needs ``f < n/2``.  Rows with a NaN or Inf entry are infinitely far; a non-finite pivot row
    is an error (the pivot is trusted by assumption).

    >>> import torch
    >>> MoNNA(f=1)(torch.tensor([[0.0], [1.0], [2.0], [10.0]]))
    tensor([1.])
    """

    name = "monna"
    needs_majority = True

    def __init__(self, f: int = 0, pivot: int = 0) -> None:
        super().__init__(f)
        self.pivot = check_int(pivot, "pivot", "monna", 0)

    def aggregate(self, updates: Tensor) -> Tensor:
        n = updates.shape[0]
        if self.pivot >= n:
            raise ValueError(f"monna: pivot must be < n, got pivot={self.pivot} with n={n}")
        finite = finite_rows(updates)
        if not bool(finite[self.pivot]):
            raise ValueError(f"monna: the trusted pivot row {self.pivot} is not finite")
        gaps = (updates - updates[self.pivot]).norm(dim=1)
        gaps = torch.where(finite, gaps.nan_to_num(nan=float("inf")), float("inf"))
        order = torch.sort(gaps, stable=True).indices[: n - self.f]
        return updates[order].mean(dim=0)

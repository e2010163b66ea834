"""Robust learning rate (RLR): reverse the step on coordinates without a sign consensus."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, check_int, finite_rows
from bench.registry import aggregators


@aggregators.register("rlr", tags={"sign-based"})
class RobustLearningRate(Aggregator):
    """Robust learning rate (Ozdayi, Kantarcioglu & Gel, "Defending against backdoors in
    federated learning with robust learning rate", AAAI 2021, Eq. 3).

    Per coordinate ``j``, the server's learning rate keeps its sign where at least
    ``threshold`` more clients agree on the update's sign than disagree, and is negated
    elsewhere::

        lr_j = +1 if |sum_i sign(u_ij)| >= threshold else -1,   agg(U) = lr (.) mean_i u_i

    (the simulator multiplies by the step size ``eta``).  Hyperparameter: ``threshold``
    (theta; default ``f + 1``, the smallest margin the ``f`` Byzantine votes cannot produce
    alone).  Rows with a NaN or Inf entry cast no vote and are left out of the mean.

    >>> import torch
    >>> RobustLearningRate(threshold=3)(torch.tensor([[1.0, 1.0], [2.0, -1.0], [3.0, 3.0]]))
    tensor([ 2., -1.])
    """

    name = "rlr"

    def __init__(self, f: int = 0, threshold: int | None = None) -> None:
        super().__init__(f)
        self.threshold = f + 1 if threshold is None else check_int(threshold, "threshold", "rlr", 1)

    def aggregate(self, updates: Tensor) -> Tensor:
        rows = updates[finite_rows(updates)]
        if rows.shape[0] == 0:
            return torch.zeros_like(updates[0])
        votes = rows.sign().sum(dim=0).abs()
        sign = torch.where(votes >= self.threshold, 1.0, -1.0).to(rows.dtype)
        return sign * rows.mean(dim=0)

"""Norm-difference clipping as a pre-aggregation stage: bound every update's norm."""

from __future__ import annotations

from torch import Tensor

from bench.aggregators.base import PreAggregator, check_positive, finite_rows, zero_rows
from bench.aggregators.clipping import clip_to_radius
from bench.registry import preaggregators


@preaggregators.register("diffclip", tags={"clipping"})
class NormDifferenceClipping(PreAggregator):
    """Norm-difference clipping (Sun, Kairouz, Suresh & McMahan, "Can you really backdoor
    federated learning?", 2019; FedML's ``norm_diff_clipping``), before any aggregator.

    The difference between a client's model and the global model, which is what an update
    is, is scaled into the ball of radius ``bound``::

        y_i = u_i / max(1, ||u_i|| / bound)

    and the clipped rows go to the next stage (``diffclip`` then ``mean`` is ``normclip``;
    FedML runs it before its configured rule).  Hyperparameter: ``bound`` (default 1.0).
    ``f`` is not used.  A row with a NaN or Inf entry has no direction to keep: it becomes 0.

    >>> import torch
    >>> NormDifferenceClipping(bound=2.0)(torch.tensor([[6.0, 8.0], [0.0, 1.0]]))
    tensor([[1.2000, 1.6000],
            [0.0000, 1.0000]])
    """

    name = "diffclip"

    def __init__(self, f: int = 0, bound: float = 1.0) -> None:
        super().__init__(f)
        self.bound = check_positive(bound, "bound", "diffclip")

    def transform(self, updates: Tensor) -> Tensor:
        return clip_to_radius(zero_rows(updates, finite_rows(updates)), self.bound)

"""Covariance-bound agnostic filter (CAF): down-weight along the top variance direction."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows, zero_rows
from bench.registry import aggregators


def top_weighted_direction(centred: Tensor, weights: Tensor) -> tuple[float, Tensor]:
    """``(lambda_max, projections)`` of the weighted covariance ``sum_i c_i z_i z_i^T / sum c``.

    Exact, from the ``n x n`` float64 matrix ``K = W^1/2 Z Z^T W^1/2`` (``W = c / sum c``):
    its top eigenpair ``(lambda, a)`` gives the top covariance eigenvector
    ``v = Z^T W^1/2 a / sqrt(lambda)`` and the projections ``Z v = Z Z^T W^1/2 a / sqrt(lambda)``.
    """
    gram = (centred @ centred.T).double()
    root = (weights / weights.sum()).sqrt()
    values, vectors = torch.linalg.eigh(root[:, None] * gram * root[None, :])
    top = float(values[-1].clamp_min(0.0))
    if top == 0.0:
        return 0.0, torch.zeros_like(root)
    return top, gram @ (root * vectors[:, -1]) / math.sqrt(top)


@aggregators.register("caf", tags={"spectral"})
class CovarianceAgnosticFilter(Aggregator):
    """Covariance-bound agnostic filter (Allouah, Guerraoui & Stephan, "Towards trustworthy
    federated learning with untrusted participants", ICML 2025, Algorithm 2; ByzFL's ``CAF``).

    Start with weights ``c_i = 1``; repeat::

        mu_c = sum_i c_i u_i / sum_i c_i
        (lambda, v) = top eigenpair of  sum_i c_i (u_i - mu_c)(u_i - mu_c)^T / sum_i c_i
        tau_i = <u_i - mu_c, v>^2,      c_i <- c_i (1 - tau_i / max_{j: c_j > 0} tau_j)

    until ``sum_i c_i <= n - 2f``, and return the ``mu_c`` of smallest ``lambda`` seen.  The
    eigenpair is exact (ByzFL takes one power step from a random start); the maximum of
    ``tau`` runs over rows still weighted (with it over all rows a zero-weight row could hold
    the maximum forever); the loop also ends when ``lambda = 0`` (the weighted rows
    coincide), and ``f = 0`` returns the mean.  Each pass zeroes at least one weight, so at
    most ``n`` passes.  Hyperparameter: ``f``.  Needs ``f < n/2``.  Rows with a NaN or Inf
    entry start with weight 0.

    >>> import torch
    >>> CovarianceAgnosticFilter(f=1)(torch.tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]))
    tensor([4., 5., 6.])
    """

    name = "caf"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        n = updates.shape[0]
        finite = finite_rows(updates)
        rows = zero_rows(updates, finite)
        weights = finite.double()
        best, best_value = None, math.inf
        while True:
            mu = (weights.to(rows.dtype) @ rows) / float(weights.sum())
            centred = zero_rows(rows - mu, finite)
            value, projections = top_weighted_direction(centred, weights)
            if value < best_value or best is None:
                best, best_value = mu, value
            if value == 0.0:
                break
            tau = projections.pow(2)
            live = weights > 0
            weights = torch.where(live, weights * (1.0 - tau / tau[live].max()), 0.0)
            weights = weights.clamp_min(0.0)
            if float(weights.sum()) <= n - 2 * self.f:
                break
        return best

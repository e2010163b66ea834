"""Geometric median by the smoothed Weiszfeld algorithm: RFA."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import (
    Aggregator,
    check_int,
    check_positive,
    finite_rows,
    zero_rows,
)
from bench.aggregators.distances import distances_to
from bench.registry import aggregators


def smoothed_weiszfeld(updates: Tensor, iterations: int, nu: float) -> Tensor:
    """``iterations`` smoothed Weiszfeld steps from ``z = 0`` over the finite rows."""
    finite = finite_rows(updates)
    points = zero_rows(updates, finite)
    weight = finite.to(updates.dtype)
    z = torch.zeros_like(updates[0])
    for _ in range(iterations):
        beta = weight / distances_to(points, z).clamp_min(nu)
        z = (beta @ points) / beta.sum()
    return z


@aggregators.register("rfa", tags={"geometric-median"})
class RobustFederatedAveraging(Aggregator):
    """Geometric median, RFA (Pillutla, Kakade & Harchaoui, IEEE TSP 2022; seed 003 §II).

    ``RFA(U) = argmin_z sum_i ||z - u_i||``, approximated by ``iterations`` smoothed Weiszfeld
    steps with uniform weights from ``z_0 = 0``::

        beta_i = 1 / max(||z - u_i||, nu),   z <- sum_i beta_i u_i / sum_i beta_i

    Hyperparameters: ``iterations`` (T, default 3: seed 003 "as the authors suggested"),
    ``nu`` (smoothing, default 0.1: seed 003's code passes 0.1; Pillutla et al. use 1e-6).
    The start ``z_0 = 0`` follows seed 003's code; starting at the mean instead would let one
    huge row drag the first T iterates along.  Rows with a NaN or Inf entry get weight 0.
    Needs ``f < n/2`` (the geometric median's breakdown point); ``f`` is not used otherwise.
    """

    name = "rfa"
    needs_majority = True

    def __init__(self, f: int = 0, iterations: int = 3, nu: float = 0.1) -> None:
        super().__init__(f)
        self.iterations = check_int(iterations, "iterations", "rfa", 1)
        self.nu = check_positive(nu, "nu", "rfa")

    def aggregate(self, updates: Tensor) -> Tensor:
        return smoothed_weiszfeld(updates, self.iterations, self.nu)

"""Covariance-bound agnostic filter: hand-computed weight passes, outliers filtered."""

from __future__ import annotations

import pytest
import torch

from bench.registry import aggregators

pytestmark = pytest.mark.uses("caf")


def test_hand_computed_two_passes() -> None:
    # [0, 0, 3], f = 1 (stop at total weight <= n - 2f = 1).  Pass 1: mu = 1, lambda = 2,
    # tau = (1, 1, 4) -> weights (0.75, 0.75, 0), total 1.5.  Pass 2: mu = 0, lambda = 0.
    out = aggregators.make("caf", f=1)(torch.tensor([[0.0], [0.0], [3.0]]))
    torch.testing.assert_close(out, torch.tensor([0.0]))


def test_hand_computed_single_pass() -> None:
    # Three points on a line through (4, 5, 6): tau = (27, 0, 27) zeroes both ends at once.
    rows = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    torch.testing.assert_close(aggregators.make("caf", f=1)(rows), torch.tensor([4.0, 5.0, 6.0]))


def test_no_byzantine_budget_gives_the_average() -> None:
    rows = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(aggregators.make("caf", f=0)(rows), rows.mean(dim=0))


def test_far_rows_are_filtered() -> None:
    g = torch.Generator().manual_seed(1)
    honest = torch.randn(20, 10, generator=g, dtype=torch.float64)
    rows = torch.cat([honest, 30.0 + torch.randn(5, 10, generator=g, dtype=torch.float64)])
    out = aggregators.make("caf", f=5)(rows)
    # The mean would sit 6 away per coordinate; the filter lands within the honest spread.
    assert float((out - honest.mean(dim=0)).abs().max()) < 0.5

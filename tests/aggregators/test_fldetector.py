"""FLDetector: the L-BFGS Hessian product, the gap statistic, and flagging a client."""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.fldetector import gap_says_two_clusters, two_means_split
from bench.aggregators.lbfgs import lbfgs_hessian_product
from bench.registry import aggregators

pytestmark = pytest.mark.uses("fldetector")


def test_lbfgs_recovers_a_diagonal_hessian() -> None:
    # Pairs (e1, 2 e1), (e2, 5 e2) of H = diag(2, 5): sigma = 5, and the BFGS updates from
    # 5 I give exactly diag(2, 5).
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    out = lbfgs_hessian_product([e1, e2], [2 * e1, 5 * e2], torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(out, torch.tensor([2.0, 5.0]))
    # Steps known only up to a common factor give the same product.
    scaled = lbfgs_hessian_product([-3 * e1, -3 * e2], [2 * e1, 5 * e2], torch.tensor([-3.0, -3.0]))
    torch.testing.assert_close(scaled, torch.tensor([2.0, 5.0]))


def test_two_cluster_split_and_gap_statistic() -> None:
    scores = torch.tensor([0.1, 0.11, 0.09, 0.1, 0.6])
    within, upper = two_means_split(scores)
    assert upper.tolist() == [False, False, False, False, True]
    assert within == pytest.approx(0.0002, abs=1e-9)  # 0.01^2 + 0.01^2 around 0.1
    assert gap_says_two_clusters(scores, 20, torch.Generator().manual_seed(0))
    even = torch.linspace(0.0, 1.0, 9)
    assert not gap_says_two_clusters(even, 20, torch.Generator().manual_seed(0))


def test_a_client_that_ignores_the_dynamics_is_flagged() -> None:
    # Honest clients follow gradient descent on 0.5 ||w||^2 (update = w, w <- w - 0.5 agg)
    # with small noise; client 4 sends a fixed vector.  After `window` scored rounds it is
    # flagged and the output is the median of the other four.
    g = torch.Generator().manual_seed(0)
    rule = aggregators.make("fldetector", window=3)
    w = torch.tensor([4.0, -2.0, 1.0])
    for _ in range(6):
        honest = w + 0.01 * torch.randn(4, 3, generator=g)
        rows = torch.cat([honest, torch.tensor([[3.0, 3.0, 3.0]])])
        out = rule(rows)
        w = w - 0.5 * out
    assert rule.flagged.tolist() == [False, False, False, False, True]
    # Median of four: the mean of the two middle values per coordinate.
    torch.testing.assert_close(out, honest.sort(dim=0).values[1:3].mean(dim=0))

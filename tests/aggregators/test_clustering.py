"""Cosine clustering: hand-computed linkage splits and the larger cluster's mean."""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.linkage import average_linkage_split, cosine_distances
from bench.registry import aggregators

pytestmark = pytest.mark.uses("clustering")


def test_hand_computed_split() -> None:
    # Three rows around +x and one along -x: the -x row is at distance ~2 from all.
    rows = torch.tensor([[1.0, 0.0], [1.0, 0.2], [1.0, -0.2], [-1.0, 0.0]])
    torch.testing.assert_close(aggregators.make("clustering")(rows), torch.tensor([1.0, 0.0]))


def test_average_linkage_on_a_distance_matrix() -> None:
    # Links: {0,1} at 0.1, then {2,3} at 0.2; the two pairs link at (0.9+1+1+0.8)/4 = 0.925.
    d = torch.tensor([[0.0, 0.1, 0.9, 1.0], [0.1, 0.0, 1.0, 0.8],
                      [0.9, 1.0, 0.0, 0.2], [1.0, 0.8, 0.2, 0.0]], dtype=torch.float64)
    # Two clusters of two: the tie goes to the one holding row 0.
    assert average_linkage_split(d).tolist() == [True, True, False, False]


def test_cosine_distances_of_zero_and_non_finite_rows_are_maximal() -> None:
    rows = torch.tensor([[1.0, 0.0], [0.0, 0.0], [float("nan"), 1.0], [0.0, 2.0]])
    d = cosine_distances(rows)
    torch.testing.assert_close(d[0, 3], torch.tensor(1.0, dtype=torch.float64))
    assert d[1].tolist() == [2.0, 0.0, 2.0, 2.0] and d[2, 0] == 2.0

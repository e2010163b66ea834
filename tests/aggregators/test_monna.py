"""MoNNA: nearest neighbours of the trusted pivot row."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("monna")
LINE = torch.tensor([[0.0], [1.0], [2.0], [10.0]])


def test_hand_computed_neighbourhoods() -> None:
    # f = 1: the 3 rows nearest 0 are {0, 1, 2}; nearest 10 are {10, 2, 1}.
    torch.testing.assert_close(aggregators.make("monna", f=1)(LINE), torch.tensor([1.0]))
    out = aggregators.make("monna", f=1, pivot=3)(LINE)
    torch.testing.assert_close(out, torch.tensor([13.0 / 3.0]))


def test_non_finite_rows_are_never_neighbours() -> None:
    rows = torch.cat([LINE, torch.tensor([[float("nan")], [float("inf")]])])
    torch.testing.assert_close(aggregators.make("monna", f=2)(rows), torch.tensor([13.0 / 4.0]))


def test_non_finite_pivot_is_an_error() -> None:
    with pytest.raises(ValueError, match="pivot row 1 is not finite"):
        aggregators.make("monna", f=1, pivot=1)(torch.tensor([[0.0], [float("nan")], [1.0]]))


def test_pivot_outside_the_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="pivot must be < n"):
        aggregators.make("monna", pivot=4)(LINE)
    with pytest.raises(RegistryError, match="pivot"):
        aggregators.make("monna", pivot=-1)

"""Robust learning rate: the sign of the step follows the vote margin."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("rlr")


def test_hand_computed_votes() -> None:
    # Margins |3| and |1| against threshold 3: keep the first coordinate, negate the second.
    rows = torch.tensor([[1.0, 1.0], [2.0, -1.0], [3.0, 3.0]])
    torch.testing.assert_close(
        aggregators.make("rlr", threshold=3)(rows), torch.tensor([2.0, -1.0])
    )


def test_default_threshold_is_f_plus_one() -> None:
    rows = torch.tensor([[1.0], [1.0], [-1.0], [1.0]])  # margin 2
    assert float(aggregators.make("rlr", f=1)(rows)) == 0.5
    assert float(aggregators.make("rlr", f=2)(rows)) == -0.5


def test_non_finite_rows_cast_no_vote() -> None:
    rows = torch.tensor([[1.0], [1.0], [float("nan")], [-float("inf")]])
    assert float(aggregators.make("rlr", threshold=2)(rows)) == 1.0


def test_zero_threshold_is_refused() -> None:
    with pytest.raises(RegistryError, match="threshold"):
        aggregators.make("rlr", threshold=0)

"""Minimum-diameter averaging: hand-computed subsets, far rows left out, the subset limit."""

from __future__ import annotations

import itertools

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("mda")


def test_hand_computed_subset() -> None:
    # f = 1 on a line: {0, 1, 2} has diameter 2, every other triple at least 9.
    out = aggregators.make("mda", f=1)(torch.tensor([[0.0], [1.0], [2.0], [10.0]]))
    torch.testing.assert_close(out, torch.tensor([1.0]))
    # In 2-D, f = 2: the square's corners (diameter sqrt 2) beat any set with a far point.
    square = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [5.0, 5.0], [-4.0, 0.0]])
    torch.testing.assert_close(aggregators.make("mda", f=2)(square), torch.tensor([0.5, 0.5]))


def test_matches_brute_force_in_float64() -> None:
    updates = torch.randn(8, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    updates[6:] += 3.0
    best = min(
        itertools.combinations(range(8), 6),
        key=lambda s: torch.cdist(updates[list(s)], updates[list(s)]).max().item(),
    )
    torch.testing.assert_close(aggregators.make("mda", f=2)(updates), updates[list(best)].mean(0))


def test_too_many_subsets_are_refused() -> None:
    with pytest.raises(ValueError, match=r"binom\(25, 10\) = 3268760"):
        aggregators.make("mda", f=10)(torch.randn(25, 3))


def test_negative_f_is_refused() -> None:
    with pytest.raises(RegistryError, match="f must be"):
        aggregators.make("mda", f=-1)

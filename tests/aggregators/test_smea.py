"""Smallest maximum eigenvalue averaging: hand-computed subsets and a brute-force check."""

from __future__ import annotations

import itertools

import pytest
import torch

from bench.registry import aggregators

pytestmark = pytest.mark.uses("smea")


def test_hand_computed_subset() -> None:
    # f = 1 on a line: {0, 1, 2} has variance 2/3, every other triple more.
    out = aggregators.make("smea", f=1)(torch.tensor([[0.0], [1.0], [2.0], [10.0]]))
    torch.testing.assert_close(out, torch.tensor([1.0]))


def test_matches_brute_force_in_float64() -> None:
    updates = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    updates[6] += 3.0

    def top(s: tuple[int, ...]) -> float:
        return float(torch.linalg.eigvalsh(torch.cov(updates[list(s)].T, correction=0))[-1])

    best = min(itertools.combinations(range(7), 5), key=top)
    torch.testing.assert_close(aggregators.make("smea", f=2)(updates), updates[list(best)].mean(0))

"""Clipped clustering: clipping to the median of the norm history, then clustering."""

from __future__ import annotations

import pytest
import torch

from bench.registry import aggregators

pytestmark = pytest.mark.uses("clipcluster")


def test_hand_computed_round() -> None:
    # Norms 5, 1, 1, 9: median 3.  [3, 4] -> [1.8, 2.4]; the -x row is its own cluster.
    rows = torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.6, 0.8], [-9.0, 0.0]])
    out = aggregators.make("clipcluster")(rows)
    torch.testing.assert_close(out, torch.tensor([1.0, 4.0 / 3.0]))


def test_threshold_uses_every_round_and_reset_forgets() -> None:
    rule = aggregators.make("clipcluster")
    rule(torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))  # history: 1, 1, 1
    # Round 2 norms 10, 10, 10: history median 5.5 (not 10), so every row is clipped.
    out = rule(torch.tensor([[10.0, 0.0], [10.0, 0.0], [10.0, 0.0]]))
    torch.testing.assert_close(out, torch.tensor([5.5, 0.0]))
    rule.reset()
    torch.testing.assert_close(rule(torch.tensor([[10.0, 0.0]] * 3)), torch.tensor([10.0, 0.0]))

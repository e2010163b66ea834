"""FoolsGold: sybils with parallel histories lose their weight; history and reset."""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.foolsgold import foolsgold_weights
from bench.registry import aggregators

pytestmark = pytest.mark.uses("foolsgold")


def test_hand_computed_weights() -> None:
    # Histories e1, e2, e2: cs_23 = 1; client 1 (max cs 0) is pardoned against the others,
    # so w = clip(1 - max cs) = (1, 0, 0), rescaled (1 -> 0.99), logit: (1, 0, 0).
    history = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert foolsgold_weights(history).tolist() == [1.0, 0.0, 0.0]
    torch.testing.assert_close(aggregators.make("foolsgold")(history), torch.tensor([1.0, 0.0]))


def test_partial_similarity_gives_a_logit_weight() -> None:
    # e1, e2 and (e1 + e2)/sqrt 2: max cos 0.7071 for all; w = 0.2929 each, / max -> 1 -> 0.99
    # -> logit(0.99) + 0.5 > 1 -> 1: equal weights, the mean.
    rows = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5**0.5, 0.5**0.5]])
    torch.testing.assert_close(aggregators.make("foolsgold")(rows), rows.mean(dim=0))


def test_history_sums_per_client_and_reset_forgets() -> None:
    rule = aggregators.make("foolsgold")
    rule(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    # Round 2 alone would make clients 2 and 3 sybils; the summed histories (2, 0), (0, 2),
    # (1, 2) are not parallel, so they are not.
    second = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    history = torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 2.0]])
    w = foolsgold_weights(history).float()
    torch.testing.assert_close(rule(second), (w @ second) / w.sum())
    rule.reset()
    torch.testing.assert_close(rule(second), torch.tensor([1.0, 0.0]))


def test_a_different_client_count_is_refused() -> None:
    rule = aggregators.make("foolsgold")
    rule(torch.randn(4, 3))
    with pytest.raises(ValueError, match="one history per client"):
        rule(torch.randn(5, 3))

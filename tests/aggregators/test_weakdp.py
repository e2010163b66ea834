"""Weak differential privacy: clipped mean plus seeded Gaussian noise."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("weakdp")


def test_hand_computed_without_noise() -> None:
    out = aggregators.make("weakdp", bound=2.0, std=0.0)(torch.tensor([[6.0, 8.0], [0.0, 1.0]]))
    torch.testing.assert_close(out, torch.tensor([0.6, 1.3]))


def test_noise_is_seeded_with_the_stated_std_and_reset_replays_it() -> None:
    rows = torch.zeros(5, 4000)
    rule = aggregators.make("weakdp", std=0.1, seed=3)
    first = rule(rows)
    assert 0.095 < float(first.std()) < 0.105 and abs(float(first.mean())) < 0.01
    assert not torch.equal(rule(rows), first)
    rule.reset()
    torch.testing.assert_close(rule(rows), first)
    assert not torch.equal(aggregators.make("weakdp", std=0.1, seed=4)(rows), first)


def test_negative_std_is_refused() -> None:
    with pytest.raises(RegistryError, match="std"):
        aggregators.make("weakdp", std=-1.0)

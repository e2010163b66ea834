"""FLAME: density-cluster admission, median-norm clipping, seeded noise."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("flame")
ROWS = torch.tensor([[1.0, 0.0], [1.0, 0.1], [1.0, -0.1], [0.9, 0.0], [-5.0, 0.0]])


def test_hand_computed_without_noise() -> None:
    # -x row is an outlier; median norm 1.005 clips nothing admitted: mean (0.975, 0).
    torch.testing.assert_close(
        aggregators.make("flame", noise=0.0)(ROWS), torch.tensor([0.975, 0.0])
    )


def test_noise_has_the_stated_scale_and_is_seeded() -> None:
    rows = torch.ones(9, 4000) / 4000**0.5  # identical unit rows: S = 1, mean = the row
    first, again = aggregators.make("flame", noise=0.01), aggregators.make("flame", noise=0.01)
    noise = first(rows) - rows[0]
    torch.testing.assert_close(noise, again(rows) - rows[0])
    assert 0.0095 < float(noise.std()) < 0.0105  # std of 4000 draws of N(0, 0.01^2)
    assert not torch.equal(first(rows) - rows[0], noise)  # the next call draws anew


def test_negative_noise_is_refused() -> None:
    with pytest.raises(RegistryError, match="noise"):
        aggregators.make("flame", noise=-0.1)

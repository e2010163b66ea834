"""Norm-difference clipping as a pre-aggregation stage."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators, preaggregators

pytestmark = pytest.mark.uses("diffclip")


def test_hand_computed_rows() -> None:
    rows = torch.tensor([[6.0, 8.0], [0.0, 1.0], [float("inf"), 0.0]])
    out = preaggregators.make("diffclip", bound=2.0)(rows)
    torch.testing.assert_close(out, torch.tensor([[1.2, 1.6], [0.0, 1.0], [0.0, 0.0]]))


@pytest.mark.uses("normclip", "mean")
def test_then_mean_equals_normclip() -> None:
    rows = 3.0 * torch.randn(7, 5, generator=torch.Generator().manual_seed(0))
    clipped = preaggregators.make("diffclip", bound=1.5)(rows)
    torch.testing.assert_close(aggregators.make("mean")(clipped),
                               aggregators.make("normclip", bound=1.5)(rows))


def test_bad_bound_is_refused() -> None:
    with pytest.raises(RegistryError, match="bound"):
        preaggregators.make("diffclip", bound=0.0)

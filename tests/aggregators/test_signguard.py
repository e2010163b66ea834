"""SignGuard: norm filter, sign-statistics cluster, median-norm clipping."""

from __future__ import annotations

import pytest
import torch

from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("signguard")


def test_hand_computed_filters() -> None:
    # Norms 1.41, 2.24, 2.24, 42.4 (median 2.24): the last fails the norm filter and the sign
    # filter; the other rows are within the median norm: their mean.
    rows = torch.tensor([[1.0, 1.0], [1.0, 2.0], [2.0, 1.0], [-30.0, -30.0]])
    out = aggregators.make("signguard", fraction=1.0)(rows)
    torch.testing.assert_close(out, torch.tensor([4.0, 4.0]) / 3)


def test_sign_reversed_rows_of_honest_norm_are_removed() -> None:
    g = torch.Generator().manual_seed(0)
    honest = 1.0 + 0.3 * torch.randn(8, 50, generator=g)
    rows = torch.cat([honest, -honest[:3]])  # same norms, opposite signs
    out = aggregators.make("signguard", fraction=1.0)(rows)
    bound = float(rows.norm(dim=1).double().quantile(0.5))
    scale = torch.clamp(bound / honest.norm(dim=1, keepdim=True), max=1.0)
    torch.testing.assert_close(out, (honest * scale).mean(dim=0))


@pytest.mark.parametrize("params", [{"low": 2.0, "high": 1.0}, {"fraction": 1.5}])
def test_bad_bounds_are_refused(params: dict) -> None:
    with pytest.raises(RegistryError, match=next(iter(params))):
        aggregators.make("signguard", **params)

"""The recovered offset (seed 000 §C) as an FL-track update attack against averaging."""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.mean import Mean
from bench.attacks.base import AttackContext
from bench.registry import attacks

ATTACK = pytest.param("recovered-offset", marks=pytest.mark.uses("recovered-offset"))


def context(n: int = 100, f: int = 1, d: int = 30) -> AttackContext:
    honest = torch.randn((n - f, d), generator=torch.Generator().manual_seed(0))
    return AttackContext(honest=honest, n=n, f=f, round=1)


@pytest.mark.uses("mean")
@pytest.mark.parametrize("name", [ATTACK])
@pytest.mark.parametrize("f", [1, 4])
def test_mean_becomes_the_reversed_honest_direction(name: str, f: int) -> None:
    ctx = context(f=f)
    forged = attacks.make(name, scale=2.0)(ctx)
    aggregate = Mean()(torch.cat([ctx.honest, forged]))
    goal = -2.0 * ctx.honest_mean
    assert float((aggregate - goal).norm() / goal.norm()) <= 1e-6


@pytest.mark.parametrize("name", [ATTACK])
def test_clip_before_rows_respect_the_bound(name: str) -> None:
    ctx = context(f=2)
    forged = attacks.make(name, clip="before", bound=0.5)(ctx)
    assert float(forged.norm(dim=1).max()) <= 0.5 * (1 + 1e-6)


@pytest.mark.parametrize("name", [ATTACK])
def test_bounds_must_match_the_threat(name: str) -> None:
    with pytest.raises(ValueError, match="no clip takes no clip bound, got bound=1.0"):
        attacks.make(name, bound=1.0)
    with pytest.raises(ValueError, match="clip 'after' needs a clip bound"):
        attacks.make(name, clip="after")
    with pytest.raises(ValueError, match="clip must be after, before or unset .* got 'sideways'"):
        attacks.make(name, clip="sideways", bound=1.0)


@pytest.mark.parametrize("name", [ATTACK])
def test_more_attacked_clients_than_clients_is_refused(name: str) -> None:
    ctx = AttackContext(honest=torch.zeros((1, 3)), n=2, f=3, round=1)
    with pytest.raises(ValueError, match="attacked clients f=3 exceed n=2"):
        attacks.make(name)(ctx)

"""Partial-knowledge variants: the omniscient formulas with the Byzantine clients' own updates."""

from __future__ import annotations

import pytest
import torch

from bench.attacks.alie import alie_z_max
from bench.attacks.base import AttackContext
from bench.registry import attacks

N, F, D = 10, 3, 6


def context(f: int = F, with_own: bool = True) -> AttackContext:
    g = torch.Generator().manual_seed(0)
    honest = torch.randn(N - f, D, generator=g, dtype=torch.float64)
    own = 2.0 + torch.randn(f, D, generator=g, dtype=torch.float64)
    return AttackContext(
        honest=honest,
        n=N,
        f=f,
        round=2,
        byzantine=own if with_own else None,
        previous_aggregate=torch.ones(D, dtype=torch.float64),
        generator=torch.Generator().manual_seed(1),
    )


def own_rows() -> torch.Tensor:
    return context().byzantine


def named(*names: str):
    return pytest.mark.parametrize(
        "name", [pytest.param(n, id=n, marks=pytest.mark.uses(n)) for n in names]
    )


@named("alie-own")
def test_sends_own_average_minus_z_own_deviation(name: str) -> None:
    own = own_rows()
    expected = own.mean(0) - alie_z_max(N, F) * own.std(0, unbiased=True)
    torch.testing.assert_close(attacks.make(name)(context()), expected.expand(F, D))


@named("ipm-own")
def test_sends_minus_eps_own_average(name: str) -> None:
    own = own_rows()
    forged = attacks.make(name, eps=0.5)(context())
    torch.testing.assert_close(forged, (-0.5 * own.mean(0)).expand(F, D))


@named("signflip-own")
def test_sends_minus_own_average(name: str) -> None:
    forged = attacks.make(name)(context())
    torch.testing.assert_close(forged, (-own_rows().mean(0)).expand(F, D))


@named("minmax-own")
def test_farthest_own_row_is_at_the_largest_own_distance(name: str) -> None:
    own = own_rows()
    pair = torch.cdist(own, own).pow(2)
    forged = attacks.make(name)(context())[0]
    to_own = (own - forged).pow(2).sum(dim=1)
    # The constraint max_i ||m - u_i|| <= max_ij ||u_i - u_j||, tight at the largest gamma.
    assert float(to_own.max()) == pytest.approx(float(pair.max()), rel=1e-9)


@named("minsum-own")
def test_summed_own_distance_is_the_largest_own_sum(name: str) -> None:
    own = own_rows()
    pair = torch.cdist(own, own).pow(2)
    forged = attacks.make(name)(context())[0]
    to_own = (own - forged).pow(2).sum(dim=1)
    assert float(to_own.sum()) == pytest.approx(float(pair.sum(dim=1).max()), rel=1e-9)


@named("fang-own")
def test_draws_within_the_own_extremes(name: str) -> None:
    own = own_rows()
    forged = attacks.make(name, b=2.0)(context())
    lo, hi, m = own.min(0).values, own.max(0).values, own.mean(0)
    # Mean > 0: values in [u_min / b, u_min] (u_min > 0) or [b u_min, u_min] (u_min < 0).
    bottom = torch.where(lo > 0, lo / 2.0, lo * 2.0)
    top = torch.where(hi > 0, hi * 2.0, hi / 2.0)
    positive = (m > 0).expand(F, D)
    inside_low = (forged >= bottom - 1e-12) & (forged <= lo + 1e-12)
    inside_high = (forged >= hi - 1e-12) & (forged <= top + 1e-12)
    assert bool(torch.where(positive, inside_low, inside_high).all())


@named("rop-own")
def test_is_orthogonal_around_its_own_reference(name: str) -> None:
    own = own_rows()
    ctx = context()
    forged = attacks.make(name, z=1.0, lam=0.9, pi=0.0, angle=90.0)(ctx)[0]
    # pi = 0: location = own mean; perturbation of norm z = 1, orthogonal to the reference.
    pert = forged - own.mean(0)
    reference = 0.9 * ctx.previous_aggregate + 0.1 * own.mean(0)
    assert float(pert.norm()) == pytest.approx(1.0, rel=1e-9)
    assert float(pert @ reference) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, id=n, marks=pytest.mark.uses(n)) for n in attacks.names("partial-knowledge")],
)
def test_needs_the_own_updates_and_two_clients(name: str) -> None:
    with pytest.raises(ValueError, match="ctx.byzantine"):
        attacks.make(name)(context(with_own=False))
    with pytest.raises(ValueError, match="f >= 2"):
        attacks.make(name)(context(f=1))

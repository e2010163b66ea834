"""Seed 000 Appendix C: the recovered offset under no clip, clip after and clip before aggregation.

C.1 and C.2 run in float32 with N = 100 clients (the seed's batch of 100, one client poisoned)
and hold to 1e-6 relative; C.3's identities hold to 1e-6 in float32 as well.
"""

from __future__ import annotations

import pytest
import torch

from bench.online.threats import clip
from bench.registry import threatmodels

NORM_IDS = {"linf": "maxnorm", "l2": "euclid"}


def component(name: str):
    """A parameter whose id is the component's registered name (so ``-k NAME`` selects it)."""
    return pytest.param(name, marks=pytest.mark.uses(name))


def clients(seed: int, n: int = 100, d: int = 50, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    gradients = torch.randn((n, d), generator=g, dtype=dtype) / n
    goal = torch.randn(d, generator=g, dtype=dtype)
    return gradients, goal


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm())


@pytest.mark.parametrize("name", [component("noclip")])
def test_one_poisoned_client_of_a_hundred_gives_the_goal(name: str) -> None:
    gradients, goal = clients(0)
    threat = threatmodels.make(name)
    forged = threat.offset(goal, gradients[1:], attacked=1)
    aggregate = threat.aggregate(torch.cat([gradients[1:], forged]))
    assert relative_error(aggregate, goal) <= 1e-6


@pytest.mark.parametrize("name", [component("noclip")])
def test_multiple_attacked_clients_share_the_offset(name: str) -> None:
    honest = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    goal = torch.tensor([0.0, 5.0], dtype=torch.float64)
    forged = threatmodels.make(name).offset(goal, honest, attacked=2)
    # goal - sum(honest) = (-4, 4), split over two clients.
    torch.testing.assert_close(forged, torch.tensor([[-2.0, 2.0], [-2.0, 2.0]],
                                                    dtype=torch.float64))


@pytest.mark.parametrize("name", [component("clip-after")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_clipped_sum_equals_the_clipped_goal(name: str, norm: str) -> None:
    gradients, goal = clients(1)
    threat = threatmodels.make(name, bound=0.5, norm=norm)
    forged = threat.offset(goal, gradients[1:])
    aggregate = threat.aggregate(torch.cat([gradients[1:], forged]))
    target = clip(goal, 0.5, norm)
    assert relative_error(aggregate, target) <= 1e-6
    assert float(aggregate.norm(p=float("inf") if norm == "linf" else 2)) <= 0.5 * (1 + 1e-6)


@pytest.mark.parametrize("name", [component("clip-before")])
def test_hand_computed_split_and_saturation(name: str) -> None:
    threat = threatmodels.make(name, bound=1.0, norm="l2")
    honest = torch.tensor([[3.0, 4.0]], dtype=torch.float64)  # clipped to (0.6, 0.8)
    goal = torch.tensor([0.6, 2.8], dtype=torch.float64)      # r = (0, 2), ||r|| = 2
    one = threat.offset(goal, honest, attacked=1)             # Clip_1(r) = (0, 1)
    torch.testing.assert_close(threat.aggregate(torch.cat([honest, one])),
                               torch.tensor([0.6, 1.8], dtype=torch.float64))
    two = threat.offset(goal, honest, attacked=2)             # ||r|| = 2 = M eta: (0, 1) each
    torch.testing.assert_close(two, torch.tensor([[0.0, 1.0], [0.0, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(threat.aggregate(torch.cat([honest, two])), goal)


@pytest.mark.parametrize("name", [component("clip-before")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_saturated_aggregate_is_the_relaxed_clip_of_the_residual(name: str, norm: str) -> None:
    gradients, goal = clients(2)
    goal = goal + goal.sign()  # every |goal_i| >= 1, far beyond M eta
    bound, attacked = 0.01, 3
    honest = gradients[attacked:]
    threat = threatmodels.make(name, bound=bound, norm=norm)
    r = threat.residual(goal, honest)
    if norm == "l2":
        assert float(r.norm()) >= attacked * bound
    else:
        assert float(r.abs().min()) >= attacked * bound
    forged = threat.offset(goal, honest, attacked)
    aggregate = threat.aggregate(torch.cat([honest, forged]))
    formula = clip(honest, bound, norm).sum(dim=0) + clip(r, attacked * bound, norm)
    assert relative_error(aggregate, formula) <= 1e-6
    # The seed's identical copies A_m = r give the same aggregate in this regime.
    copies = threat.aggregate(torch.cat([honest, r.expand(attacked, -1)]))
    assert relative_error(copies, formula) <= 1e-6


@pytest.mark.parametrize("name", [component("clip-before")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_gap_to_the_goal_never_grows_with_more_attacked_clients(name: str, norm: str) -> None:
    gradients, goal = clients(3, n=40)
    threat = threatmodels.make(name, bound=0.02, norm=norm)
    gaps = []
    for attacked in range(1, 41):
        honest = gradients[attacked:]
        forged = threat.offset(goal, honest, attacked)
        gaps.append(distance(threat.aggregate(torch.cat([honest, forged])), goal))
    assert all(b <= a + 1e-6 for a, b in zip(gaps[:-1], gaps[1:], strict=True)), gaps
    assert gaps[-1] < gaps[0]


@pytest.mark.parametrize("name", [component("clip-before")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_reachable_goal_is_hit_exactly_where_copies_overshoot(name: str, norm: str) -> None:
    gradients, goal = clients(4)
    honest = gradients[5:]
    threat = threatmodels.make(name, bound=1.0, norm=norm)
    goal = 0.5 * goal / goal.norm(p=float("inf") if norm == "linf" else 2)
    r = threat.residual(goal, honest)
    assert float(r.norm(p=float("inf") if norm == "linf" else 2)) <= 5 * 1.0
    forged = threat.offset(goal, honest, attacked=5)
    assert relative_error(threat.aggregate(torch.cat([honest, forged])), goal) <= 1e-6
    copies = threat.aggregate(torch.cat([honest, r.expand(5, -1)]))
    assert relative_error(copies, goal) > 0.5


@pytest.mark.parametrize("name", [component("clip-after"), component("clip-before")])
def test_nonpositive_bound_and_unknown_norm_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="bound .* must be > 0, got 0"):
        threatmodels.make(name, bound=0.0)
    with pytest.raises(ValueError, match="norm must be one of linf, l2, got 'l1'"):
        threatmodels.make(name, bound=1.0, norm="l1")


@pytest.mark.parametrize("name", [component("noclip"), component("clip-before")])
def test_wrong_shapes_and_no_attacked_client_are_refused(name: str) -> None:
    threat = threatmodels.make(name) if name == "noclip" else threatmodels.make(name, bound=1.0)
    with pytest.raises(ValueError, match=r"honest must be Tensor\[N - M, d\]"):
        threat.offset(torch.zeros(3), torch.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"attacked \(M\) must be >= 1, got 0"):
        threat.offset(torch.zeros(2), torch.zeros((4, 2)), attacked=0)

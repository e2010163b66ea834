"""FGSM, PGD and MIM (seed 000 Eqs. 1-4) on objectives whose maximizer over the budget is known.

The objective ``L_A(x) = Σ_b <w_b, x_b>`` is affine, so over the ℓ∞ ball its maximizer is the
vertex ``x + eps sign(w)`` and over the ℓ2 ball ``x + eps w / ||w||``; points sit inside the
box so that the box clip is inactive unless a test wants it.
"""

from __future__ import annotations

import pytest
import torch

from bench.online.perturb import draw_start, project
from bench.registry import perturbations

pytestmark = pytest.mark.filterwarnings("error")

NORM_IDS = {"linf": "maxnorm", "l2": "euclid"}


def component(name: str):
    """A parameter whose id is the component's registered name (so ``-k NAME`` selects it)."""
    return pytest.param(name, marks=pytest.mark.uses(name))


def affine(weights: torch.Tensor):
    return lambda x: (weights * x).sum()


def batch(seed: int = 0, shape: tuple[int, ...] = (4, 3, 5)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = 0.3 + 0.4 * torch.rand(shape, generator=g, dtype=torch.float64)
    w = torch.randn(shape, generator=g, dtype=torch.float64)
    return x, w


def euclid_optimum(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    norms = w.reshape(w.shape[0], -1).norm(dim=1).reshape(-1, 1, 1)
    return x + eps * w / norms


def sample_norms(delta: torch.Tensor, p: float) -> torch.Tensor:
    return delta.reshape(delta.shape[0], -1).norm(p=p, dim=1)


def test_projection_clamps_each_coordinate_then_the_box() -> None:
    x = torch.tensor([[0.5, 0.95, 0.02]], dtype=torch.float64)
    far = torch.tensor([[0.9, 1.2, -0.5]], dtype=torch.float64)
    torch.testing.assert_close(project(far, x, 0.1, "linf"),
                               torch.tensor([[0.6, 1.0, 0.0]], dtype=torch.float64))


def test_projection_rescales_long_deltas_only() -> None:
    x = torch.full((2, 2), 0.5, dtype=torch.float64)
    moved = x + torch.tensor([[0.3, 0.4], [0.03, 0.04]], dtype=torch.float64)
    out = project(moved, x, 0.1, "l2")
    # ||(0.3, 0.4)|| = 0.5 -> scaled by 0.1 / 0.5; ||(0.03, 0.04)|| = 0.05 <= 0.1 stays.
    torch.testing.assert_close(out - x, torch.tensor([[0.06, 0.08], [0.03, 0.04]],
                                                     dtype=torch.float64))


@pytest.mark.parametrize("name", [component("fgsm")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_one_step_reaches_the_affine_optimum(name: str, norm: str) -> None:
    x, w = batch()
    out = perturbations.make(name, eps=0.05, norm=norm)(affine(w), x)
    best = x + 0.05 * w.sign() if norm == "linf" else euclid_optimum(x, w, 0.05)
    torch.testing.assert_close(out, best, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [component("fgsm")])
def test_one_step_is_clipped_to_the_box(name: str) -> None:
    x = torch.tensor([[0.0, 1.0, 0.5]], dtype=torch.float64)
    w = torch.tensor([[-1.0, 2.0, -3.0]], dtype=torch.float64)
    out = perturbations.make(name, eps=0.1)(affine(w), x)
    torch.testing.assert_close(out, torch.tensor([[0.0, 1.0, 0.4]], dtype=torch.float64))


@pytest.mark.parametrize("name", [component("pgd")])
def test_each_step_moves_by_the_step_size_along_the_sign(name: str) -> None:
    x, w = batch()
    one = perturbations.make(name, eps=0.1, steps=1, step_size=0.03, random_start=False)
    torch.testing.assert_close(one(affine(w), x), x + 0.03 * w.sign(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [component("pgd")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_iterates_reach_the_affine_optimum(name: str, norm: str) -> None:
    x, w = batch(1)
    attack = perturbations.make(name, eps=0.08, norm=norm, random_start=(norm == "linf"))
    out = attack(affine(w), x, torch.Generator().manual_seed(3))
    # ℓ∞: 10 sign steps of 2 eps / 10 cross the ball from any start, ending on the vertex.
    # ℓ2 without random start: the steps follow w / ||w|| and stop at the sphere.
    best = x + 0.08 * w.sign() if norm == "linf" else euclid_optimum(x, w, 0.08)
    torch.testing.assert_close(out, best, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [component("pgd")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_start_is_inside_the_ball_and_box_and_spread_over_it(name: str, norm: str) -> None:
    x = torch.rand((500, 6), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    start = draw_start(x, 0.1, norm, torch.Generator().manual_seed(1))
    delta = start - x
    p = float("inf") if norm == "linf" else 2.0
    assert float(sample_norms(delta, p).max()) <= 0.1 + 1e-12
    assert bool(((start >= 0) & (start <= 1)).all())
    # Uniform draws: the mean offset is ~0, and some draws come near the boundary.
    assert float(delta.mean().abs()) < 0.01
    assert float(sample_norms(delta, p).max()) > 0.09


@pytest.mark.parametrize("name", [component("pgd")])
@pytest.mark.parametrize("norm", ["linf", "l2"], ids=NORM_IDS.get)
def test_budget_holds_on_a_curved_objective(name: str, norm: str) -> None:
    x, w = batch(2)
    attack = perturbations.make(name, eps=0.05, norm=norm)
    out = attack(lambda v: (torch.sin(7 * v) * w).sum(), x, torch.Generator().manual_seed(0))
    p = float("inf") if norm == "linf" else 2.0
    assert float(sample_norms(out - x, p).max()) <= 0.05 * (1 + 1e-12)
    assert bool(((out >= 0) & (out <= 1)).all())


@pytest.mark.parametrize("name", [component("pgd")])
def test_batch_samples_are_attacked_independently(name: str) -> None:
    x, w = batch(4)
    attack = perturbations.make(name, eps=0.05, norm="l2", random_start=False, step_size=0.01)
    objective = lambda v, u: (torch.sin(5 * v) * u).sum()  # noqa: E731
    together = attack(lambda v: objective(v, w), x)
    alone = torch.cat([attack(lambda v, b=b: objective(v, w[b:b + 1]), x[b:b + 1])
                       for b in range(x.shape[0])])
    torch.testing.assert_close(together, alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [component("momentum-iterative")])
def test_steps_of_eps_over_steps_reach_the_vertex(name: str) -> None:
    x, w = batch(5)
    out = perturbations.make(name, eps=0.06)(affine(w), x)
    torch.testing.assert_close(out, x + 0.06 * w.sign(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [component("momentum-iterative")])
def test_velocity_keeps_the_direction_of_normalised_past_gradients(name: str) -> None:
    # Gradients w1 = (1, 1), then w2 = (-1, 3).  L1-normalised: (0.5, 0.5), (-0.25, 0.75).
    # mu = 1: g2 = (0.25, 1.25), sign (+, +), although w2's first coordinate is negative.
    # mu = 0: g2 = (-0.25, 0.75), sign (-, +).
    grads = [torch.tensor([[1.0, 1.0]], dtype=torch.float64),
             torch.tensor([[-1.0, 3.0]], dtype=torch.float64)]
    calls = []

    def switching(v: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return (grads[len(calls) - 1] * v).sum()

    x = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    out = perturbations.make(name, eps=0.1, steps=2, step_size=0.02)(switching, x)
    torch.testing.assert_close(out, torch.tensor([[0.54, 0.54]], dtype=torch.float64))
    calls.clear()
    plain = perturbations.make(name, eps=0.1, steps=2, step_size=0.02, mu=0.0)
    torch.testing.assert_close(plain(switching, x), torch.tensor([[0.5, 0.54]],
                                                                 dtype=torch.float64))


@pytest.mark.parametrize("name", [component(n) for n in ("fgsm", "pgd", "momentum-iterative")])
def test_negative_budget_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="eps must be >= 0, got -0.1"):
        perturbations.make(name, eps=-0.1)


@pytest.mark.parametrize("name", [component("pgd")])
def test_unknown_norm_and_zero_steps_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="norm must be one of linf, l2, got 'l1'"):
        perturbations.make(name, eps=0.1, norm="l1")
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        perturbations.make(name, eps=0.1, steps=0)


@pytest.mark.parametrize("name", [component("fgsm")])
def test_inputs_outside_the_box_and_vector_objectives_are_refused(name: str) -> None:
    attack = perturbations.make(name, eps=0.1)
    with pytest.raises(ValueError, match=r"x must lie in the box \[0, 1\]"):
        attack(lambda v: v.sum(), torch.tensor([[1.5]]))
    with pytest.raises(ValueError, match="must return a scalar, got shape"):
        attack(lambda v: v.sum(dim=1), torch.tensor([[0.5]]))

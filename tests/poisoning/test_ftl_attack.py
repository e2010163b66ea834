"""Seed 001 Algorithm 1 and Theorem 2 on a 2-D box set: theory checks (deterministic, seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from bench.poisoning.convex import HingeVictim, LogisticVictim, Params
from bench.poisoning.loss_difference import hinge_max_difference, logistic_max_difference
from bench.poisoning.lower_bound import z_value
from bench.poisoning.online_attack import model_targeted_poisoning
from bench.poisoning.target_heuristic import label_flip_targets

C_R = 0.01           # logistic victims
HINGE_C_R = 0.09     # seed 001 code default


def box_set(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    return X, np.where(X[:, 0] + X[:, 1] + 0.2 * rng.normal(size=n) > 1, 1.0, -1.0)


@pytest.fixture(scope="module")
def hinge_run():
    X, y = box_set()
    Xt, yt = box_set(1)
    victim = HingeVictim(HINGE_C_R)
    target = label_flip_targets(victim, X, y, Xt, yt, goals=(0.15,), quantiles=(0.1, 0.2),
                                repeats=(1, 3, 5))[0]
    result = model_targeted_poisoning(victim, X, y, target.params, lo=0.0, hi=1.0,
                                      epsilon=0.05, eval_X=Xt, eval_y=yt, max_iterations=400)
    return victim, X, y, target, result


def test_attack_reaches_epsilon_and_best_difference_never_increases(hinge_run) -> None:
    _, _, _, _, result = hinge_run
    assert result.stopped == "epsilon"
    best = [it.best_difference for it in result.log]
    assert all(b2 <= b1 for b1, b2 in zip(best, best[1:], strict=False))
    assert result.log[-1].max_difference <= 0.05


def test_lower_bound_below_poisons_that_induce_the_target_exactly(hinge_run) -> None:
    # The label-flip poisons induce theta_p exactly, so Theorem 2 bounds their count.
    victim, X, y, target, result = hinge_run
    assert 0 < result.lower_bound <= target.poison_count
    # Re-run with the attack-induced model as target (seed 001 Tables 1-2): LB <= n_p.
    again = model_targeted_poisoning(victim, X, y, result.params, lo=0.0, hi=1.0,
                                     epsilon=0.05, max_iterations=400)
    assert again.lower_bound <= result.poisons


def test_iterate_equals_ftl_sum_form_refit(hinge_run) -> None:
    # theta_i = argmin L(D_c u D_p^{i-1}) + (N + i - 1) C_R R: minimised here in the sum form
    # (logistic loss, so a smooth independent solve) and compared with Algorithm 1's iterate.
    X, y = box_set()
    victim = LogisticVictim(C_R)
    target = Params(w=np.array([-1.0, 2.0]), b=np.asarray(-0.5))
    result = model_targeted_poisoning(victim, X, y, target, lo=0.0, hi=1.0, budget=3)
    Xa = np.vstack([X, result.poison_X[:2]])
    ya = np.concatenate([y, result.poison_y[:2]])

    def total(v: np.ndarray) -> float:
        s = Xa @ v[:2] + v[2]
        reg = (len(X) + 2) * C_R * 0.5 * v[:2] @ v[:2]
        return float(np.sum(np.logaddexp(0, -ya * s)) + reg)

    ref = minimize(total, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    theta_3 = victim.fit(X, y, extra_X=result.poison_X[:2], extra_y=result.poison_y[:2])
    assert np.allclose(theta_3.vector(), ref, atol=1e-6)
    assert result.log[2].poisons == 2


def test_theorem4_l1_distance_bounded_by_loss_distance() -> None:
    # ||theta||_1, ||theta'||_1 <= r, X = [-1/r, 1/r]^d => ||theta - theta'||_1 <= r D(th, th')
    rng = np.random.default_rng(3)
    r, d = 2.0, 5
    for _ in range(20):
        a, b = rng.normal(size=d), rng.normal(size=d)
        a *= r * rng.uniform(0.2, 1) / np.abs(a).sum()
        b *= r * rng.uniform(0.2, 1) / np.abs(b).sum()
        pa, pb = Params(a, np.asarray(0.0)), Params(b, np.asarray(0.0))
        dist = hinge_max_difference(pa, pb, -1 / r, 1 / r).value
        assert np.abs(a - b).sum() <= r * dist + 1e-9


def test_exact_hinge_maximum_beats_every_grid_point() -> None:
    theta = Params(np.array([1.5, -0.5]), np.asarray(0.2))
    target = Params(np.array([-1.0, 1.0]), np.asarray(0.1))
    best = hinge_max_difference(theta, target, 0.0, 1.0)
    g = np.linspace(0, 1, 41)
    grid = np.array([[u, v] for u in g for v in g])
    for yy in (1.0, -1.0):
        diff = (np.maximum(0, 1 - yy * (grid @ theta.w + theta.b))
                - np.maximum(0, 1 - yy * (grid @ target.w + target.b)))
        assert diff.max() <= best.value + 1e-12


def test_adam_maximum_close_to_grid_maximum_for_logistic() -> None:
    theta = Params(np.array([1.5, -0.5]), np.asarray(0.2))
    target = Params(np.array([-1.0, 1.0]), np.asarray(0.1))
    found = logistic_max_difference(theta, target, 0.0, 1.0)
    g = np.linspace(0, 1, 101)
    grid = np.array([[u, v] for u in g for v in g])
    best = max(float(np.max(np.logaddexp(0, -yy * (grid @ theta.w + theta.b))
                            - np.logaddexp(0, -yy * (grid @ target.w + target.b))))
               for yy in (1.0, -1.0))
    assert best - 1e-3 <= found.value <= best + 1e-9
    assert not found.exact


def test_two_copies_halve_the_refits() -> None:
    X, y = box_set()
    victim = HingeVictim(HINGE_C_R)
    target = Params(w=np.array([-2.0, 3.0]), b=np.asarray(-0.5))
    one = model_targeted_poisoning(victim, X, y, target, lo=0.0, hi=1.0, budget=20)
    two = model_targeted_poisoning(victim, X, y, target, lo=0.0, hi=1.0, budget=20, copies=2)
    assert one.poisons == two.poisons == 20
    assert (one.retrains, two.retrains) == (21, 11)


@pytest.mark.parametrize("bad, match", [
    ({"epsilon": 0.0}, "epsilon"), ({"epsilon": -1.0}, "epsilon"), ({"budget": 0}, "budget"),
    ({"epsilon": 0.1, "lo": 1.0}, "box"), ({"epsilon": 0.1, "copies": 0}, "copies"),
    ({}, "stopping"),
])
def test_bad_attack_input_is_rejected(bad: dict, match: str) -> None:
    X, y = box_set()
    kwargs = {"lo": 0.0, "hi": 1.0, **bad}
    with pytest.raises(ValueError, match=match):
        model_targeted_poisoning(HingeVictim(HINGE_C_R), X, y, Params(np.ones(2), np.asarray(0.0)),
                                 **kwargs)


def test_z_is_absent_for_a_non_positive_denominator() -> None:
    X, y = box_set()
    victim = HingeVictim(HINGE_C_R)
    theta = victim.fit(X, y)
    assert z_value(victim, theta, theta, X, y, max_difference=0.0) is None

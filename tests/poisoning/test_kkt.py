"""The two-point KKT attack (Koh, Steinhardt & Liang 2018; seed 001's baseline): exact checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from bench.poisoning.convex import HingeVictim, LogisticVictim, Params, SquaredVictim
from bench.poisoning.kkt import (
    KKTError,
    TwoPointPoisons,
    clean_gradient,
    kkt_attack,
    project_box_halfspace,
)

pytestmark = pytest.mark.uses("kkt")


def box_set(seed: int = 0, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    return X, np.where(X[:, 0] + X[:, 1] + 0.2 * rng.normal(size=n) > 1, 1.0, -1.0)


def test_projection_matches_a_generic_constrained_solver() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        z, a = rng.normal(0.5, 1.0, size=3), rng.normal(size=3)
        c = float(a @ rng.uniform(0, 1, size=3))          # a box point satisfies it
        ours = project_box_halfspace(z, a, c, 0.0, 1.0)
        ref = minimize(lambda x, z=z: 0.5 * np.sum((x - z) ** 2), np.full(3, 0.5),
                       jac=lambda x, z=z: x - z, method="SLSQP", bounds=[(0.0, 1.0)] * 3,
                       constraints=[{"type": "ineq", "fun": lambda x, a=a, c=c: c - a @ x}],
                       options={"ftol": 1e-14, "maxiter": 500})
        np.testing.assert_allclose(ours, ref.x, atol=1e-6)
        assert a @ ours <= c + 1e-12 and np.all((ours >= 0) & (ours <= 1))


def test_projection_on_an_empty_set_raises() -> None:
    with pytest.raises(KKTError, match="no point"):
        project_box_halfspace(np.zeros(2), np.ones(2), -0.5, 0.0, 1.0)


def test_clean_gradient_vanishes_at_the_clean_model() -> None:
    # N grad F(theta_c) = sum grad l + N C_R w = 0 at the exact fit (no poisons, n = 0).
    X, y = box_set()
    victim = LogisticVictim(0.01)
    clean = victim.fit(X, y)
    assert np.linalg.norm(clean_gradient(victim, X, y, clean, 0)) <= len(y) * victim.tol


@pytest.mark.parametrize("victim, splits", [(HingeVictim(0.09), None),
                                             (LogisticVictim(0.01), (0.5, 0.6, 0.7))],
                         ids=["hinge", "logistic"])
def test_target_made_by_two_points_is_recovered_exactly(victim, splits) -> None:
    # theta_p induced by 12 copies of (x+, +1) and 8 of (x-, -1), both misclassified: a
    # budget of 20 admits an exact two-point solution, so ||G|| -> 0 and retraining on the
    # attack's poisons lands on theta_p.
    X, y = box_set()
    target = victim.fit(X, y, extra_X=np.array([[0.1, 0.2], [0.9, 0.8]]),
                        extra_y=np.array([1.0, -1.0]), extra_weights=np.array([12.0, 8.0]))
    kw = {} if splits is None else {"splits": splits}
    found = kkt_attack(victim, X, y, target, 20, lo=0.0, hi=1.0, **kw)
    assert found.n_plus + found.n_minus == 20
    assert found.residual <= 1e-8
    px, py, copies = found.arrays()
    back = victim.fit(X, y, extra_X=px, extra_y=py, extra_weights=copies.astype(float))
    assert back.distance(target) <= 1e-5


def test_too_small_a_budget_leaves_a_residual() -> None:
    # Two copies cannot move the SVM to a model that needed twenty.
    X, y = box_set()
    victim = HingeVictim(0.09)
    target = victim.fit(X, y, extra_X=np.array([[0.1, 0.2], [0.9, 0.8]]),
                        extra_y=np.array([1.0, -1.0]), extra_weights=np.array([12.0, 8.0]))
    assert kkt_attack(victim, X, y, target, 2, lo=0.0, hi=1.0).residual > 1e-3


def test_arrays_leave_out_a_point_with_no_copies() -> None:
    poisons = TwoPointPoisons(np.zeros(2), np.ones(2), 0, 5, 0.0)
    x, labels, copies = poisons.arrays()
    np.testing.assert_array_equal(x, [[1.0, 1.0]])
    np.testing.assert_array_equal(labels, [-1.0])
    np.testing.assert_array_equal(copies, [5])


@pytest.mark.parametrize("kw, match", [
    ({"n": 0}, "budget"), ({"n": 2.5}, "budget"), ({"n": 4, "splits": (1.5,)}, "splits"),
    ({"n": 4, "lo": 1.0, "hi": 0.0}, "infeasible"), ({"n": 4, "steps": 0}, "steps"),
], ids=["zero", "fraction", "split", "box", "steps"])
def test_bad_input_names_the_field(kw, match) -> None:
    X, y = box_set()
    target = Params(np.array([1.0, 1.0]), np.asarray(-1.0))
    args = {"lo": 0.0, "hi": 1.0, **kw}
    n = args.pop("n")
    with pytest.raises(ValueError, match=match):
        kkt_attack(HingeVictim(0.09), X, y, target, n, **args)


def test_victim_without_margin_loss_is_refused() -> None:
    X, y = box_set()
    with pytest.raises(KKTError, match="hinge or logistic"):
        kkt_attack(SquaredVictim(0.1), X, y, Params(np.zeros(2), np.asarray(0.0)), 3,
                   lo=0.0, hi=1.0)

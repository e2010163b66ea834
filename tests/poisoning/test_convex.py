"""Convex victims (seed 001 eq. (1)): exact optimality, closed forms, sklearn agreement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC

from bench.poisoning.convex import (
    HingeVictim,
    LogisticVictim,
    NotConverged,
    Params,
    SoftmaxVictim,
    SquaredVictim,
)

C_R = 0.09


def binary_set(n: int = 120, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] + 0.7 * rng.normal(size=n) + 0.2 > 0, 1.0, -1.0)
    return X, y


def victim_and_labels(kind: str) -> tuple[object, np.ndarray, np.ndarray]:
    X, y = binary_set()
    if kind == "hinge":
        return HingeVictim(C_R), X, y
    if kind == "logistic":
        return LogisticVictim(C_R), X, y
    if kind == "squared":
        return SquaredVictim(C_R), X, X @ np.arange(1.0, 7.0) + 0.3 * y
    labels = (y > 0).astype(int) + (X[:, 1] > 0.6)
    return SoftmaxVictim(3, C_R), X, labels


KINDS = ["hinge", "logistic", "squared", "multiclass"]


@pytest.mark.parametrize("kind", KINDS)
def test_fit_reaches_optimality_tolerance(kind: str) -> None:
    victim, X, y = victim_and_labels(kind)
    params = victim.fit(X, y)
    assert victim.residual(params, X, y) <= 1e-8


@pytest.mark.parametrize("kind", KINDS)
def test_fit_is_bitwise_deterministic_and_warm_start_agrees(kind: str) -> None:
    victim, X, y = victim_and_labels(kind)
    a, b = victim.fit(X, y), victim.fit(X, y)
    assert np.array_equal(a.vector(), b.vector())
    start = Params(w=a.w + 0.3, b=a.b - 0.2)
    warm = victim.fit(X, y, init=start)
    if kind == "multiclass":  # the bias is only defined up to a common shift
        assert np.allclose(victim.log_probs(warm, X), victim.log_probs(a, X), atol=1e-7)
    else:
        assert np.allclose(warm.vector(), a.vector(), atol=1e-6)


@pytest.mark.parametrize("kind", ["hinge", "logistic", "squared"])
def test_integer_weights_equal_copies_and_extra_points_equal_stacking(kind: str) -> None:
    victim, X, y = victim_and_labels(kind)
    copies = np.arange(len(X)) % 3 + 1
    weighted = victim.fit(X, y, weights=copies)
    repeated = victim.fit(np.repeat(X, copies, axis=0), np.repeat(y, copies))
    assert np.allclose(weighted.vector(), repeated.vector(), atol=1e-7)
    extra = victim.fit(X[:100], y[:100], extra_X=X[100:], extra_y=y[100:])
    stacked = victim.fit(X, y)
    assert np.allclose(extra.vector(), stacked.vector(), atol=1e-7)


@pytest.mark.parametrize("c_r, w_star", [(0.09, 1.0), (0.5, 1.0), (2.0, 0.5), (4.0, 0.25)])
def test_hinge_closed_form_on_two_symmetric_points(c_r: float, w_star: float) -> None:
    # F = (max(0, 1-w-b) + max(0, 1-w+b)) / 2 + c_r w^2 / 2: w* = min(1, 1/c_r); b* = 0 when
    # w* = 1, and any |b| <= 1 - w* otherwise (both hinges active: F does not depend on b).
    X, y = np.array([[1.0], [-1.0]]), np.array([1.0, -1.0])
    params = HingeVictim(c_r).fit(X, y)
    assert params.w[0] == pytest.approx(w_star, abs=1e-12)
    assert abs(float(params.b)) <= 1 - w_star + 1e-12


def test_logistic_closed_form_on_two_symmetric_points() -> None:
    # F = log(1 + exp(-w)) + c_r w^2 / 2: stationary where sigma(-w) = c_r w.
    X, y = np.array([[1.0], [-1.0]]), np.array([1.0, -1.0])
    w_star = brentq(lambda w: expit(-w) - C_R * w, 0.0, 100.0, xtol=1e-15)
    params = LogisticVictim(C_R).fit(X, y)
    assert params.w[0] == pytest.approx(w_star, abs=1e-10)


def test_hinge_certificate_rejects_a_perturbed_optimum() -> None:
    victim, X, y = victim_and_labels("hinge")
    params = victim.fit(X, y)
    moved = Params(w=params.w + 1e-4 * np.eye(X.shape[1])[0], b=params.b)
    assert victim.residual(moved, X, y) > 1e-6


def test_logistic_agrees_with_sklearn() -> None:
    X, y = binary_set()
    ref = LogisticRegression(C=1 / (len(X) * C_R), tol=1e-12, max_iter=100_000).fit(X, y)
    params = LogisticVictim(C_R).fit(X, y)
    assert np.allclose(params.w, ref.coef_.ravel(), atol=1e-6)
    assert float(params.b) == pytest.approx(float(ref.intercept_[0]), abs=1e-6)


def test_hinge_agrees_with_sklearn_svc() -> None:
    X, y = binary_set()
    ref = SVC(kernel="linear", C=1 / (len(X) * C_R), tol=1e-12).fit(X, y)
    params = HingeVictim(C_R).fit(X, y)
    assert np.allclose(params.w, ref.coef_.ravel(), atol=1e-5)
    assert float(params.b) == pytest.approx(float(ref.intercept_[0]), abs=1e-5)


def test_squared_agrees_with_sklearn_ridge() -> None:
    victim, X, y = victim_and_labels("squared")
    ref = Ridge(alpha=len(X) * C_R, tol=1e-14, solver="cholesky").fit(X, y)
    params = victim.fit(X, y)
    assert np.allclose(params.w, ref.coef_, atol=1e-10)
    assert float(params.b) == pytest.approx(float(ref.intercept_), abs=1e-10)


def test_multiclass_agrees_with_sklearn() -> None:
    victim, X, y = victim_and_labels("softmax")
    ref = LogisticRegression(C=1 / (len(X) * C_R), tol=1e-12, max_iter=100_000).fit(X, y)
    params = victim.fit(X, y)
    assert np.allclose(np.exp(victim.log_probs(params, X)), ref.predict_proba(X), atol=1e-6)


def test_objective_is_weighted_average_loss_plus_scaled_regularizer() -> None:
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, -1.0])
    params = Params(w=np.array([0.5, 0.25]), b=np.asarray(0.1))
    # scores 0.6 and 0.6: hinge losses 1 - 0.6 = 0.4 and 1 + 0.6 = 1.6; weights 3:1 -> 3/4, 1/4;
    # R = (0.25 + 0.0625) / 2
    expected = 0.75 * 0.4 + 0.25 * 1.6 + C_R * 0.15625
    assert HingeVictim(C_R).objective(params, X, y, weights=np.array([3.0, 1.0])) == (
        pytest.approx(expected, abs=1e-15))


def test_unreachable_tolerance_raises_with_the_residual() -> None:
    X, y = binary_set()
    with pytest.raises(NotConverged) as err:
        LogisticVictim(C_R, tol=1e-30).fit(X, y)
    assert 0 < err.value.residual < 1e-6


@pytest.mark.parametrize("bad", [
    {"c_r": 0.0}, {"c_r": -1.0}, {"c_r": float("nan")}, {"tol": 0.0}, {"max_iter": 0},
])
def test_bad_constructor_values_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        LogisticVictim(**bad)


def test_bad_data_is_rejected_with_the_field() -> None:
    X, y = binary_set()
    victim = HingeVictim(C_R)
    with pytest.raises(ValueError, match="labels"):
        victim.fit(X, np.where(y > 0, 1.0, 0.0))
    with pytest.raises(ValueError, match="NaN"):
        victim.fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="weights"):
        victim.fit(X, y, weights=np.ones(3))
    with pytest.raises(ValueError, match="labels"):
        SoftmaxVictim(2, C_R).fit(X, np.full(len(X), 2))

"""Exact checks of the poisonability threshold (seed 002 §3; notes P2.2, P2.9 item 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.poisoning import threshold as th

W1 = 0.2784645427610738


def test_lambert_w_constant() -> None:
    assert abs(th.lambert_w_of(1 / math.e) - W1) < 1e-12
    w = th.lambert_w_of(9 / math.e)
    assert abs(w * math.exp(w) - 9 / math.e) < 1e-12


@pytest.mark.parametrize(("classes", "ratio"), [(10, 3.9538), (200, 11.3009)])
def test_class_count_ratio(classes: int, ratio: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, classes)) * 3
    labels = rng.integers(0, classes, size=50)
    inner = th.softmax_inner(logits, labels)
    assert inner > 0  # random logits misclassify most points
    two = th.tau_softmax(logits, labels, classes=2)
    many = th.tau_softmax(logits, labels)
    assert abs(two / many - ratio) < 5e-5


def test_fraction_convention() -> None:
    for inner in (0.01, 0.3, 2.0):
        tau = inner / W1
        for eps_d in np.linspace(0.01, 3 * tau, 37):
            lam = th.poison_fraction(eps_d)
            assert (eps_d < tau) == (lam < inner / (inner + W1))
    assert th.poison_fraction(1.0) == 0.5


def test_logistic_by_hand() -> None:
    # t = -1: -t sigma(-t) = sigma(1); t = 0: 0.  A = sigma(1) / 2.
    sigma1 = 1 / (1 + math.exp(-1))
    assert abs(th.margin_inner([-1.0, 0.0]) - sigma1 / 2) < 1e-15
    assert abs(th.tau_margin([-1.0, 0.0]) - sigma1 / 2 / W1) < 1e-14


@pytest.mark.parametrize(("loss", "argmin"), [("logistic", 1 + W1), ("hinge", 1.0),
                                              ("exponential", 1.0)])
def test_lowest_value_attained_and_bounded(loss: str, argmin: float) -> None:
    a = th.margin_infimum(loss)
    if loss != "hinge":  # hinge attains -1 only in the subgradient limit t -> 1-
        assert abs(th.margin_term(np.array([argmin]), loss)[0] - a) < 1e-14
    grid = np.linspace(-30, 30, 200001)
    assert th.margin_term(grid, loss).min() >= a - 1e-15
    assert th.margin_term(grid, loss).min() < a + 1e-3  # grid step 3e-4


def test_hinge_and_exponential_scalings() -> None:
    margins = np.array([-2.0, 0.5, 3.0])
    assert th.tau_margin(margins, "hinge") == pytest.approx((2.0 - 0.5) / 3, abs=1e-15)
    exp_inner = np.mean(-margins * np.exp(-margins))
    assert th.tau_margin(margins, "exponential") == pytest.approx(math.e * exp_inner, rel=1e-14)


def test_two_class_logits_equal_logistic_margins() -> None:
    margins = np.array([-3.0, -0.2, 0.7, 4.0])
    logits = np.stack([np.zeros(4), margins], axis=1) + 5.0  # a common shift changes nothing
    labels = np.ones(4, dtype=int)
    assert th.tau_softmax(logits, labels) == pytest.approx(th.tau_margin(margins), rel=1e-13)


def test_last_layer_from_features() -> None:
    rng = np.random.default_rng(1)
    phi, w, b = rng.normal(size=(20, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    y = rng.integers(0, 3, size=20)
    expected = th.tau_softmax(phi @ w.T + b, y)
    assert th.tau_last_layer(phi, w, b, y) == expected


def test_degenerate_targets() -> None:
    assert th.tau_least_squares() == 0.0
    assert th.tau_margin([5.0, 6.0]) == 0.0  # A < 0: any eps_d > 0 may suffice
    assert th.tau_margin([-1.0], "hinge", rho=2.0) == math.inf  # a + rho >= 0
    assert th.tau_margin([-1.0], "hinge", rho=0.5) == pytest.approx(1.5 / 0.5)


def test_mixture_gradient_bound_holds_for_random_poisons() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2))
    y = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    w = np.array([1.5, -0.5])

    def grad(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
        t = labels * (points @ w)
        return -(labels / (1 + np.exp(t)))[:, None] * points

    g_mu = grad(x, y).mean(axis=0)
    inner = float(w @ g_mu)
    tau = inner / W1
    assert tau > 0
    for eps_d in (0.25 * tau, 0.5 * tau, 0.9 * tau):
        bound = th.mixture_gradient_bound(inner, eps_d, float(np.linalg.norm(w)))
        for _ in range(50):
            poisons = rng.normal(size=(7, 2)) * 5
            labels = np.where(rng.random(7) < 0.5, -1.0, 1.0)
            total = g_mu + eps_d * grad(poisons, labels).mean(axis=0)
            assert np.linalg.norm(total) >= bound - 1e-12


@pytest.mark.parametrize(("call", "field"), [
    (lambda: th.tau_margin([1.0, float("nan")]), "margins"),
    (lambda: th.tau_margin(np.zeros((2, 2))), "margins"),
    (lambda: th.tau_margin([1.0], loss="squared"), "loss"),
    (lambda: th.tau_softmax(np.zeros(3), np.zeros(3, dtype=int)), "logits"),
    (lambda: th.tau_softmax(np.zeros((3, 2)), np.zeros(2, dtype=int)), "labels"),
    (lambda: th.tau_softmax(np.zeros((1, 2)), np.array([2])), "labels"),
    (lambda: th.tau_last_layer(np.zeros((3, 2)), np.zeros((2, 3)), None, np.zeros(3)), "weight"),
])
def test_bad_input_names_the_field(call, field: str) -> None:
    with pytest.raises(th.ThresholdError, match=field):
        call()

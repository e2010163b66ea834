"""Self-influence removal (Koh & Liang 2017 §5.4; seed 002 App. C.10) on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.poisoning.objective import linear_objective, params_to_torch
from bench.poisoning.self_influence import self_influence_scores
from bench.registry import sanitizers

from .conftest import C_R

pytestmark = pytest.mark.uses("ihvp")


def test_least_squares_scores_are_scaled_leverages() -> None:
    # squared loss, no ridge: g_i = r_i (x_i, 1), H = X'X / n, so s_i = n r_i^2 h_ii with
    # h_ii the leverage of row i of X = [x, 1]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 2))
    y = rng.normal(size=12)
    w, b = np.array([0.3, -0.7]), 0.2
    design = np.hstack([x, np.ones((12, 1))])
    leverage = np.diag(design @ np.linalg.solve(design.T @ design, design.T))
    expected = 12 * (x @ w + b - y) ** 2 * leverage
    params = {"w": torch.tensor(w), "b": torch.tensor(b)}
    got = self_influence_scores(linear_objective("squared", 0.0), params, torch.tensor(x),
                                torch.tensor(y), ("w", "b"))
    assert np.allclose(got.numpy(), expected, rtol=1e-10)


def test_ihvp_removes_planted_mislabelled_points(or_set, or_victim) -> None:
    # five copies of the (1, 1) corner labelled -1: the highest self-influence points
    x = np.vstack([or_set.x_train, np.ones((5, 2))])
    y = np.concatenate([or_set.y_train, -np.ones(5)])
    fitted = params_to_torch(or_victim.fit(x, y))
    keep = sanitizers.make("ihvp").keep(linear_objective("logistic", C_R), fitted,
                                        torch.tensor(x), torch.tensor(y), 5)
    assert keep[:200].all() and not keep[200:].any()


def test_ihvp_refuses_a_large_last_layer() -> None:
    params = {"w": torch.zeros(30), "b": torch.tensor(0.0)}
    with pytest.raises(ValueError, match="max_params"):
        sanitizers.make("ihvp", max_params=10).keep(
            linear_objective("logistic", C_R), params, torch.zeros(4, 30), torch.ones(4), 1)


def test_ihvp_refuses_negative_damping() -> None:
    with pytest.raises(ValueError, match="damping"):
        sanitizers.make("ihvp", damping=-1.0)

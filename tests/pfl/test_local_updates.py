"""Local updates of seed 004 §2.2: exact optima are stationary; batched and sequential agree."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem, NotQuadratic
from bench.pfl.losses import LinearRegression, LogisticRegression, SoftmaxClassifier
from bench.pfl.synthetic import logistic_regression_users, preferred_models
from bench.registry import regularizers
from tests.pfl.setups import each, linear_setup

ALL = ("l2sq", "l2norm", "l2smooth")


@pytest.mark.parametrize("name", each(*ALL))
@pytest.mark.parametrize("nu", [0.0, 0.3])
def test_exact_local_optimum_is_stationary(name: str, nu: float) -> None:
    setup = linear_setup(name, lam=2.0, nu=nu)
    rho = 4.0 * torch.ones(5, dtype=torch.float64)  # far from every user: no kink at theta = rho
    theta = setup.problem.exact(rho, setup.honest)
    assert float((theta - rho).norm(dim=-1).min()) > 1e-3
    grad = setup.problem.gradient(theta, rho, setup.honest)
    assert float(grad.abs().max()) <= 1e-9 * float(setup.honest.weights.sum())


@pytest.mark.uses("l2norm")
def test_l2norm_local_optimum_sits_at_rho_when_the_loss_slope_is_below_lam() -> None:
    # One user, H = I (two unit queries), c = (0.5, 0): at rho = 0 the slope is (-0.5, 0).
    queries = torch.eye(2, dtype=torch.float64)
    labels = torch.tensor([0.5, 0.0], dtype=torch.float64)
    data = Federation.stack([(queries, labels)])
    rho = torch.zeros(2, dtype=torch.float64)
    for lam, expected in [(1.0, [0.0, 0.0]), (0.2, [0.3, 0.0])]:
        # lam = 0.2 < 0.5: stationarity (theta - 0.5) + 0.2 sign = 0 gives theta_1 = 0.3.
        problem = LocalProblem(LinearRegression(), regularizers.make("l2norm", lam=lam))
        torch.testing.assert_close(problem.exact(rho, data)[0],
                                   torch.tensor(expected, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.uses("l2sq")
def test_exact_local_l2sq_matches_the_hand_formula() -> None:
    # One user with H = diag(2, 0) (queries (1,0) twice), c = (2, 0); lam = 1, rho = (1, 1):
    # (H + 2I) theta = c + 2 rho  ->  theta = (4/4, 2/2) = (1, 1).  With nu = 1: H + 2 + 2.
    queries = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    data = Federation.stack([(queries, torch.tensor([1.0, 1.0], dtype=torch.float64))])
    rho = torch.ones(2, dtype=torch.float64)
    for nu, expected in [(0.0, [1.0, 1.0]), (1.0, [4.0 / 6.0, 0.5])]:
        problem = LocalProblem(LinearRegression(), regularizers.make("l2sq", lam=1.0), nu)
        torch.testing.assert_close(problem.exact(rho, data)[0],
                                   torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("name", each(*ALL))
@pytest.mark.parametrize("mode", ["exact", "step"])
def test_batched_and_sequential_engines_agree(name: str, mode: str) -> None:
    setup = linear_setup(name, users=5)
    generator = torch.Generator().manual_seed(3)
    rho = torch.randn(5, generator=generator, dtype=torch.float64)
    theta = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    batched = setup.problem.update(theta, rho, setup.honest, mode, 0.01, "batched")
    sequential = setup.problem.update(theta, rho, setup.honest, mode, 0.01, "sequential")
    torch.testing.assert_close(batched, sequential, rtol=1e-12, atol=1e-12)


@pytest.mark.uses("l2smooth")
def test_engines_agree_with_l2smooth_on_ragged_logistic_and_multiclass_users() -> None:
    generator = torch.Generator().manual_seed(4)
    models = preferred_models(generator, 3, 4)
    data = Federation.stack(logistic_regression_users(generator, models, [5, 9, 2]), form="mean")
    problem = LocalProblem(LogisticRegression(), regularizers.make("l2smooth", lam=0.5), 0.1)
    rho = torch.randn(4, generator=generator, dtype=torch.float64)
    theta = torch.randn(3, 4, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(problem.update(theta, rho, data, "step", 0.1, "batched"),
                               problem.update(theta, rho, data, "step", 0.1, "sequential"),
                               rtol=1e-12, atol=1e-12)
    labels = torch.softmax(torch.randn(3, 6, 3, generator=generator, dtype=torch.float64), -1)
    soft = Federation(torch.randn(3, 6, 4, generator=generator, dtype=torch.float64), labels,
                      torch.ones(3, 6, dtype=torch.float64))
    problem = LocalProblem(SoftmaxClassifier(3), regularizers.make("l2smooth", lam=0.5))
    theta = torch.randn(3, 15, generator=generator, dtype=torch.float64)
    rho = torch.zeros(15, dtype=torch.float64)
    torch.testing.assert_close(problem.update(theta, rho, soft, "step", 0.1, "batched"),
                               problem.update(theta, rho, soft, "step", 0.1, "sequential"),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.uses("l2sq")
def test_one_local_step_with_l2sq_is_the_hand_gradient_step() -> None:
    # One point Q = (1, 0), A = 1, theta = 0, rho = (1, 1), lam = 1, lr = 0.5:
    # grad = (theta.Q - A) Q + 2 lam (theta - rho) = (-1, 0) + (-2, -2) = (-3, -2).
    data = Federation.stack([(torch.tensor([[1.0, 0.0]], dtype=torch.float64),
                              torch.tensor([1.0], dtype=torch.float64))])
    problem = LocalProblem(LinearRegression(), regularizers.make("l2sq", lam=1.0))
    theta = problem.update(torch.zeros(1, 2, dtype=torch.float64),
                           torch.ones(2, dtype=torch.float64), data, "step", 0.5)
    torch.testing.assert_close(theta[0], torch.tensor([1.5, 1.0], dtype=torch.float64))


def test_sum_and_expectation_forms_weight_points_one_or_one_over_size() -> None:
    sets = [(torch.ones(2, 1), torch.ones(2)), (torch.ones(4, 1), torch.ones(4))]
    assert Federation.stack(sets, form="sum").weights.sum(dim=1).tolist() == [2.0, 4.0]
    assert Federation.stack(sets, form="mean").weights.sum(dim=1).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="form"):
        Federation.stack(sets, form="median")


@pytest.mark.uses("l2sq")
def test_exact_mode_with_l2sq_refuses_a_non_quadratic_loss() -> None:
    problem = LocalProblem(LogisticRegression(), regularizers.make("l2sq", lam=1.0))
    data = Federation.stack([(torch.ones(2, 3), torch.ones(2))])
    with pytest.raises(NotQuadratic, match="quadratic"):
        problem.exact(torch.zeros(3), data)
    with pytest.raises(ValueError, match="local_weight"):
        LocalProblem(LinearRegression(), regularizers.make("l2sq", lam=1.0), -1.0)

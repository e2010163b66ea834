"""Seed 004's scaling claims on exact optima of synthetic linear regression with l2sq.

Both use the one-linear-system solver (:mod:`bench.pfl.exact`), so sweeps over users and data
sizes run in milliseconds instead of federated runs.
"""

from __future__ import annotations

import numpy as np
import torch

from bench.pfl.exact import global_optimum, summed_report
from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.losses import LinearRegression
from bench.pfl.synthetic import linear_regression_users, preferred_models
from bench.registry import regularizers

FEATURES = 3


def problem(lam: float = 1.0) -> LocalProblem:
    return LocalProblem(LinearRegression(), regularizers.make("l2sq", lam=lam))


def test_attack_model_offset_grows_with_the_number_of_users() -> None:
    # Section I.2: ||theta_nat - theta_dagger|| = ||G(theta_dagger)|| / (2 lam) with G the N honest
    # users' summed report, so the poison weight needed grows ~ N: fitted exponent in [0.7, 1.3].
    counts = [2, 4, 8, 16, 32, 64]
    offsets = []
    for users in counts:
        generator = torch.Generator().manual_seed(users)
        models = preferred_models(generator, users, FEATURES)
        honest = Federation.stack(linear_regression_users(generator, models, [40] * users))
        target = torch.full((FEATURES,), 3.0, dtype=torch.float64)
        pull = summed_report(problem(), honest, target)
        offsets.append(float(pull.norm()) / 2.0)
    exponent = np.polyfit(np.log(counts), np.log(offsets), 1)[0]
    assert 0.7 <= exponent <= 1.3, (exponent, offsets)


def test_local_pac_error_of_honest_users_falls_with_their_data_under_the_model_attack() -> None:
    # Theorem 2 (local PAC*): with I points per honest user, the honest users' optimal local
    # models approach their own theta_n_dagger even while a pinned attacker holds rho on its
    # target; the log-log slope of the mean error over I = 10^2..10^5 is <= -0.25.
    sizes = [100, 1000, 10_000, 100_000]
    users = 3
    errors = []
    for size in sizes:
        generator = torch.Generator().manual_seed(7)
        models = preferred_models(generator, users, FEATURES)
        honest = Federation.stack(linear_regression_users(generator, models, [size] * users))
        target = torch.full((FEATURES,), 3.0, dtype=torch.float64)
        pull = summed_report(problem(), honest, target)
        attack_model = target + pull / 2.0
        rho, theta = global_optimum(problem(), honest, attack_model.unsqueeze(0))
        assert float((rho - target).norm()) <= 1e-8 * float(target.norm())
        errors.append(float((theta - models).norm(dim=-1).mean()))
    slope = np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert slope <= -0.25, (slope, errors)

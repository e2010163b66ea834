"""CGA (seed 004 Eqs. 5-6): estimator identity, Theorem 4 against l2sq, Prop. 2 against l2norm."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bench.pfl.attacks.cga import CounterGradient
from bench.pfl.exact import affine_response
from bench.pfl.server import ServerConfig, simulate
from tests.pfl.setups import context, each, linear_setup


@pytest.mark.uses("cga")
@pytest.mark.parametrize("regularizer", each("l2sq", "l2norm"))
def test_estimate_equals_last_rounds_honest_sum(regularizer: str) -> None:
    setup = linear_setup(regularizer)
    config = ServerConfig(step=0.01, rounds=1, local_mode="step", local_lr=0.01)
    attacker = CounterGradient()
    attacker.start(context(setup, config))
    rho, theta, previous_sum = torch.zeros(5, dtype=torch.float64), None, None
    for _ in range(12):
        run = simulate(setup.problem, setup.honest, config, rho, attacker=attacker, theta=theta)
        if previous_sum is not None:
            scale = float(previous_sum.norm()) + 1.0
            assert float((attacker.estimate - previous_sum).norm()) <= 1e-10 * scale
        previous_sum = setup.problem.regularizer.gradient(rho, run.theta).sum(dim=0)
        rho, theta = run.rho, run.theta


@pytest.mark.uses("cga", "l2sq")
@pytest.mark.parametrize("users", [3, 10])
def test_theorem_four_l2sq_geometric_convergence_to_the_target(users: int) -> None:
    setup = linear_setup(users=users, points=20, seed=users)
    smoothness = float(torch.linalg.eigvalsh(affine_response(setup.problem, setup.honest)[0])
                       .max())
    config = ServerConfig(step=1.0 / (3.0 * smoothness), rounds=200, local_mode="exact",
                          keep_history=True)
    attacker = CounterGradient()
    attacker.start(context(setup, config))
    run = simulate(setup.problem, setup.honest, config, torch.zeros(5, dtype=torch.float64),
                   attacker=attacker)
    target = setup.target
    assert float((run.rho - target).norm()) <= 1e-8 * max(1.0, float(target.norm()))
    rhos = torch.stack(run.rhos)
    moves = (rhos[1:] - rhos[:-1]).norm(dim=-1).numpy()
    tail = np.flatnonzero(moves > 1e-11)
    tail = tail[tail >= 20]
    assert len(tail) >= 10, "too few rounds above round-off to fit a rate"
    rate = math.exp(np.polyfit(tail, np.log(moves[tail]), 1)[0])
    assert rate <= math.sqrt(7.0) / 3.0


@pytest.mark.uses("cga")
@pytest.mark.parametrize("regularizer", each("l2norm", "l2smooth"))
def test_bounded_reports_resist_and_cga_ends_partially_honest(regularizer: str) -> None:
    # Proposition 2 (stated for l2smooth, observed for l2 in Fig. 16b): at a fixed point short of
    # the target, g_inf = lam (rho_inf - target) / ||rho_inf - target||.  Measured: rho moves by
    # ~4e-6 at round 300 and rho stays at 0.92-0.93 of the starting target distance.
    setup = linear_setup(regularizer, users=4, points=30, lam=1.0, target_scale=10.0)
    config = ServerConfig(step=0.02, rounds=300, local_mode="exact", keep_history=True)
    attacker = CounterGradient()
    attacker.start(context(setup, config))
    start = torch.zeros(5, dtype=torch.float64)
    run = simulate(setup.problem, setup.honest, config, start, attacker=attacker)
    initial = float((start - setup.target).norm())
    final = run.rho - setup.target
    assert float(final.norm()) >= 0.5 * initial
    assert float((run.rhos[-1] - run.rhos[-2]).norm()) <= 1e-4
    assert run.ignored == 0
    report = run.attacker_reports[-1]
    cosine = float(report @ final / (report.norm() * final.norm()))
    assert cosine >= 0.999
    assert abs(float(report.norm()) - 1.0) <= 1e-3

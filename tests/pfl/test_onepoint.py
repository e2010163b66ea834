"""One poisoned point for linear regression with l2sq (seed 004 Theorem 5, sign corrected)."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.attacks.base import AttackError
from bench.pfl.exact import global_optimum, summed_report
from bench.pfl.federation import Federation
from bench.pfl.server import ServerConfig
from bench.registry import pfl_attacks
from tests.pfl.setups import context, linear_setup

CONFIG = ServerConfig(step=0.005, rounds=1, local_mode="exact")


def optimum_with(setup, point: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    everyone = Federation.concat([setup.honest, Federation.stack([point])])
    return global_optimum(setup.problem, everyone)[0]


@pytest.mark.uses("onepoint", "l2sq")
@pytest.mark.parametrize("nu", [0.0, 0.3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theorem_five_onepoint_l2sq_moves_the_optimum_onto_the_target(nu: float, seed: int):
    setup = linear_setup(nu=nu, seed=seed, users=3, points=50, features=4)
    queries, labels, alpha = pfl_attacks.make("onepoint").poison(context(setup, CONFIG))
    assert queries.shape == (1, 4) and alpha == 1.0
    rho = optimum_with(setup, (queries, labels))
    assert float((rho - setup.target).norm()) <= 1e-8 * float(setup.target.norm())


@pytest.mark.uses("onepoint", "l2sq")
def test_onepoint_printed_sign_of_theorem_five_fails_with_l2sq() -> None:
    # Printed: (Q, A) = (G, G^T theta_nat - 1), whose loss gradient at theta_nat is +G.
    setup = linear_setup(users=3, points=50, features=4)
    pull = summed_report(setup.problem, setup.honest, setup.target)
    model = setup.target + pull / (2.0 * setup.problem.regularizer.lam)
    rho = optimum_with(setup, (pull.unsqueeze(0), (pull @ model - 1.0).reshape(1)))
    assert float((rho - setup.target).norm()) >= 1e-3 * float(setup.target.norm())


@pytest.mark.uses("onepoint", "l2sq", "cga")
def test_onepoint_from_a_cga_rehearsal_with_l2sq() -> None:
    setup = linear_setup(users=3, points=50, features=4)
    from tests.pfl.test_gradpin import exact_server

    attack = pfl_attacks.make("onepoint", source="rehearsal", rounds=300)
    queries, labels, _ = attack.poison(context(setup, exact_server(setup)))
    rho = optimum_with(setup, (queries, labels))
    assert float((rho - setup.target).norm()) <= 1e-6 * float(setup.target.norm())


@pytest.mark.uses("onepoint", "l2smooth")
def test_onepoint_refuses_l2smooth() -> None:
    with pytest.raises(AttackError, match="l2sq"):
        pfl_attacks.make("onepoint").poison(context(linear_setup("l2smooth"), CONFIG))

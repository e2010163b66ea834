"""CGA -> model attack (seed 004 Proposition 3): theta_nat = theta_dagger - g_inf / (2 lam)."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.attacks.base import AttackError
from bench.pfl.exact import affine_response, global_optimum
from bench.pfl.server import ServerConfig
from bench.registry import pfl_attacks
from tests.pfl.setups import context, linear_setup


def exact_server(setup) -> ServerConfig:
    smoothness = float(torch.linalg.eigvalsh(affine_response(setup.problem, setup.honest)[0])
                       .max())
    return ServerConfig(step=1.0 / (3.0 * smoothness), rounds=1, local_mode="exact")


@pytest.mark.uses("gradpin", "l2sq")
@pytest.mark.parametrize("source", ["rehearsal", "exact"])
def test_gradpin_with_l2sq_puts_the_optimum_on_the_target(source: str) -> None:
    setup = linear_setup(users=5)
    attack = pfl_attacks.make("gradpin", source=source, rounds=300)
    model = attack.attack_model(context(setup, exact_server(setup)))
    rho, _ = global_optimum(setup.problem, setup.honest, model.unsqueeze(0))
    assert float((rho - setup.target).norm()) <= 1e-6 * float(setup.target.norm())


@pytest.mark.uses("gradpin", "l2sq")
def test_gradpin_halved_factor_of_the_ocr_misses_the_target_with_l2sq() -> None:
    # The OCR's lam(theta_dagger - theta_nat) would give theta_nat = theta_dagger - g_inf / lam.
    setup = linear_setup(users=5)
    model = pfl_attacks.make("gradpin", source="exact").attack_model(
        context(setup, exact_server(setup)))
    doubled = setup.target + 2.0 * (model - setup.target)
    rho, _ = global_optimum(setup.problem, setup.honest, doubled.unsqueeze(0))
    assert float((rho - setup.target).norm()) >= 1e-2 * float(setup.target.norm())


@pytest.mark.uses("gradpin", "l2norm")
def test_gradpin_refuses_l2norm_and_bad_parameters() -> None:
    setup = linear_setup("l2norm")
    config = ServerConfig(step=0.01, rounds=1, local_mode="exact")
    with pytest.raises(AttackError, match="l2sq"):
        pfl_attacks.make("gradpin").attack_model(context(setup, config))
    with pytest.raises(ValueError, match="source"):
        pfl_attacks.make("gradpin", source="oracle")
    with pytest.raises(ValueError, match="rounds"):
        pfl_attacks.make("gradpin", rounds=0)

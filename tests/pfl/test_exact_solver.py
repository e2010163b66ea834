"""The quadratic global optimum (seed 004 Eq. 1) and the Danskin summed report (Eq. 169)."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.exact import global_optimum, summed_report
from bench.pfl.local import NotQuadratic
from tests.pfl.setups import linear_setup


def loss_gradients(setup, rho, theta, pinned=None):
    """Autograd of LOSS = sum_n F_n(theta_n) + pinned users' R, in rho and in every theta_n."""
    rho = rho.clone().requires_grad_(True)
    theta = theta.clone().requires_grad_(True)
    problem = setup.problem
    total = (problem.local_weight * (theta**2).sum() + problem.loss.data_term(theta, setup.honest)
             .sum() + problem.regularizer.value(rho, theta).sum())
    if pinned is not None:
        total = total + problem.regularizer.value(rho, pinned).sum()
    return torch.autograd.grad(total, (rho, theta))


@pytest.mark.uses("l2sq")
@pytest.mark.parametrize("nu", [0.0, 0.5])
def test_l2sq_global_optimum_zeroes_every_partial_gradient(nu: float) -> None:
    setup = linear_setup(nu=nu, lam=0.8)
    pinned = torch.full((1, 5), 7.0, dtype=torch.float64)
    for extra in (None, pinned):
        rho, theta = global_optimum(setup.problem, setup.honest, extra)
        grad_rho, grad_theta = loss_gradients(setup, rho, theta, extra)
        assert float(grad_rho.abs().max()) <= 1e-10
        assert float(grad_theta.abs().max()) <= 1e-10


@pytest.mark.uses("l2sq")
def test_l2sq_summed_report_is_the_sum_of_optimally_responding_reports() -> None:
    setup = linear_setup(nu=0.2)
    rho = torch.linspace(-1, 1, 5, dtype=torch.float64)
    theta = setup.problem.exact(rho, setup.honest)
    direct = setup.problem.regularizer.gradient(rho, theta).sum(dim=0)
    torch.testing.assert_close(summed_report(setup.problem, setup.honest, rho), direct,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.uses("l2norm")
def test_exact_solver_refuses_l2norm() -> None:
    setup = linear_setup("l2norm")
    with pytest.raises(NotQuadratic, match="l2norm"):
        global_optimum(setup.problem, setup.honest)


@pytest.mark.uses("l2sq")
@pytest.mark.parametrize("nu", [0.0, 0.4])
def test_lemma_one_l2sq_data_poisoning_is_a_model_attack(nu: float) -> None:
    # Any D_s: pinning theta_s to its optimum theta_s*(D) reproduces rho* and the honest theta*.
    from bench.pfl.federation import Federation

    setup = linear_setup(nu=nu)
    generator = torch.Generator().manual_seed(9)
    poison = (torch.randn(7, 5, generator=generator, dtype=torch.float64),
              10.0 * torch.randn(7, generator=generator, dtype=torch.float64))
    everyone = Federation.concat([setup.honest, Federation.stack([poison])])
    rho, theta = global_optimum(setup.problem, everyone)
    pinned_rho, pinned_theta = global_optimum(setup.problem, setup.honest, theta[-1:])
    scale = max(1.0, float(rho.norm()))
    assert float((pinned_rho - rho).norm()) <= 1e-8 * scale
    assert float((pinned_theta - theta[:-1]).norm()) <= 1e-8 * scale

"""Regularizers of seed 004: values, reports against autograd, plausible set, Proposition 1."""

from __future__ import annotations

import math

import pytest
import torch

from bench.registry import RegistryError, regularizers
from tests.pfl.setups import each

ALL = ("l2sq", "l2norm", "l2smooth")
RHO = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64)
THETA = torch.tensor([[1.0, 0.0, 0.0], [1.0, 2.0, 2.0]], dtype=torch.float64)  # z = (0,2,2), 0


# ||z|| = sqrt(8) for the first user, 0 for the second.
HAND_VALUES = {"l2sq": [16.0, 0.0], "l2norm": [2 * math.sqrt(8), 0.0], "l2smooth": [6.0, 2.0]}


@pytest.mark.parametrize("name", each(*ALL))
def test_hand_computed_values_at_lam_two(name: str) -> None:
    got = regularizers.make(name, lam=2.0).value(RHO, THETA)
    torch.testing.assert_close(got, torch.tensor(HAND_VALUES[name], dtype=torch.float64))


@pytest.mark.parametrize("name", each(*ALL))
def test_report_is_the_autograd_gradient_in_rho(name: str) -> None:
    regularizer = regularizers.make(name, lam=0.7)
    generator = torch.Generator().manual_seed(1)
    rho = torch.randn(6, generator=generator, dtype=torch.float64, requires_grad=True)
    theta = torch.randn(4, 6, generator=generator, dtype=torch.float64)
    rows = [torch.autograd.grad(regularizer.value(rho, t), rho)[0] for t in theta]
    torch.testing.assert_close(regularizer.gradient(rho.detach(), theta), torch.stack(rows),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.uses("l2norm")
def test_subgradient_of_l2norm_at_equal_models_is_zero() -> None:
    report = regularizers.make("l2norm", lam=1.0).gradient(RHO, THETA)
    assert torch.equal(report[1], torch.zeros(3, dtype=torch.float64))


PLAUSIBLE = {"l2sq": [True, True, True, False], "l2norm": [False, True, False, False],
             "l2smooth": [False, True, False, False]}


@pytest.mark.parametrize("name", each(*ALL))
def test_plausibility_set_is_everything_or_the_lam_ball(name: str) -> None:
    reports = torch.tensor([[0.0, 1.5], [0.6, 0.8], [3.0, 4.0], [float("nan"), 0.0]])
    assert regularizers.make(name, lam=1.0).plausible(reports).tolist() == PLAUSIBLE[name]


@pytest.mark.uses("l2smooth")
def test_l2smooth_reports_never_leave_the_ball() -> None:
    regularizer = regularizers.make("l2smooth", lam=0.5)
    theta = 1e6 * torch.randn(50, 4, generator=torch.Generator().manual_seed(2),
                              dtype=torch.float64)
    reports = regularizer.gradient(torch.zeros(4, dtype=torch.float64), theta)
    assert bool(regularizer.plausible(reports).all())


H_REPORTS = torch.tensor([[3.0, 4.0], [0.3, 0.4], [-6.0, 8.0]], dtype=torch.float64)


@pytest.mark.uses("l2sq")
def test_l2sq_projection_is_the_identity() -> None:
    got = regularizers.make("l2sq", lam=2.0).project(H_REPORTS)
    torch.testing.assert_close(got, H_REPORTS, rtol=0, atol=0)


@pytest.mark.parametrize("name", each("l2norm", "l2smooth"))
def test_ball_projection_keeps_inside_and_rescales_outside(name: str) -> None:
    h = H_REPORTS
    g = regularizers.make(name, lam=2.0).project(h)
    norms = torch.linalg.vector_norm(g, dim=-1)
    assert bool((norms <= 2.0 * (1 + 1e-12)).all())
    torch.testing.assert_close(g[1], h[1], rtol=1e-12, atol=0)       # inside: unchanged
    torch.testing.assert_close(g[0], torch.tensor([1.2, 1.6], dtype=torch.float64),
                               rtol=1e-12, atol=0)                     # colinear, norm lam
    cosine = (g[2] @ h[2]) / (norms[2] * torch.linalg.vector_norm(h[2]))
    assert float(cosine) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", each(*ALL))
@pytest.mark.parametrize("lam", [0.0, -1.0, float("nan"), float("inf")],
                         ids=["zero", "negative", "notanumber", "unbounded"])
def test_bad_lam_is_refused_naming_it(name: str, lam: float) -> None:
    with pytest.raises(RegistryError, match="lam"):
        regularizers.make(name, lam=lam)


@pytest.mark.parametrize("name", each(*ALL))
def test_no_regularizer_name_contains_another_registered_name(name: str) -> None:
    from bench.registry import component_names

    inside = [other for other in component_names() if other != name and other in name]
    assert not inside, f"{name} contains {inside}"

"""The server loop of seed 004 §2.2: filter, pinned users, the sum and an aggregator hook."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.exact import affine_response, global_optimum
from bench.pfl.server import ServerConfig, simulate
from bench.pfl.settings import PflSettings
from bench.pfl.simulation import setup
from bench.registry import aggregators, pfl_attacks
from bench.run import Seeds, SettingsError
from bench.scenario import Component, Defense, Scenario
from tests.pfl.setups import context, linear_setup


class FixedReport:
    """A gradient attacker that always sends the same report."""

    def __init__(self, report: torch.Tensor) -> None:
        self.value = report

    def report(self, rho: torch.Tensor, step: float) -> torch.Tensor:
        return self.value


@pytest.mark.uses("l2norm")
def test_l2norm_filter_ignores_reports_longer_than_lam() -> None:
    setup = linear_setup("l2norm", lam=1.0)
    config = ServerConfig(step=0.01, rounds=3, local_mode="exact")
    start = torch.zeros(5, dtype=torch.float64)
    honest = simulate(setup.problem, setup.honest, config, start)
    loud = torch.full((5,), 10.0, dtype=torch.float64)
    filtered = simulate(setup.problem, setup.honest, config, start, attacker=FixedReport(loud))
    assert filtered.ignored == 3
    torch.testing.assert_close(filtered.rho, honest.rho, rtol=0, atol=0)


@pytest.mark.uses("l2sq")
def test_l2sq_filter_admits_any_finite_report() -> None:
    setup = linear_setup("l2sq")
    config = ServerConfig(step=0.01, rounds=1, local_mode="exact")
    start = torch.zeros(5, dtype=torch.float64)
    honest = simulate(setup.problem, setup.honest, config, start)
    loud = torch.full((5,), 10.0, dtype=torch.float64)
    moved = simulate(setup.problem, setup.honest, config, start, attacker=FixedReport(loud))
    assert moved.ignored == 0
    torch.testing.assert_close(moved.rho, honest.rho - 0.01 * loud)


@pytest.mark.uses("modelpin", "l2sq")
def test_modelpin_server_loop_reaches_the_l2sq_exact_optimum() -> None:
    setup = linear_setup(users=4)
    smoothness = float(torch.linalg.eigvalsh(affine_response(setup.problem, setup.honest)[0])
                       .max())
    config = ServerConfig(step=1.0 / (smoothness + 2.0), rounds=2000, local_mode="exact")
    model = pfl_attacks.make("modelpin").attack_model(context(setup, config))
    torch.testing.assert_close(model, setup.target, rtol=0, atol=0)
    run = simulate(setup.problem, setup.honest, config, torch.zeros(5, dtype=torch.float64),
                   pinned=model.unsqueeze(0))
    rho, theta = global_optimum(setup.problem, setup.honest, model.unsqueeze(0))
    torch.testing.assert_close(run.rho, rho, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(run.theta, theta, rtol=1e-9, atol=1e-9)


@pytest.mark.uses("mean", "krum", "l2sq")
def test_aggregator_hook_with_mean_reproduces_the_l2sq_sum_and_krum_differs() -> None:
    setup = linear_setup(users=6)
    start = torch.zeros(5, dtype=torch.float64)
    plain = simulate(setup.problem, setup.honest, ServerConfig(0.01, 5, "exact"), start)
    hooked = ServerConfig(0.01, 5, "exact", aggregator=aggregators.make("mean"))
    torch.testing.assert_close(simulate(setup.problem, setup.honest, hooked, start).rho,
                               plain.rho, rtol=1e-12, atol=1e-12)
    robust = ServerConfig(0.01, 5, "exact", aggregator=aggregators.make("krum", f=1))
    assert float((simulate(setup.problem, setup.honest, robust, start).rho - plain.rho).norm()) > 0


@pytest.mark.parametrize("field,value", [("step", 0.0), ("step", -1.0), ("rounds", -1),
                                         ("local_mode", "many"), ("engine", "gpu"),
                                         ("local_lr", 0.0)])
def test_server_settings_are_validated_naming_the_field(field: str, value) -> None:
    settings = {"step": 0.1, "rounds": 1, "local_mode": "step", "local_lr": 0.1, field: value}
    with pytest.raises(ValueError, match=field):
        ServerConfig(**settings)


def aggregator_scenario(aggregator) -> Scenario:
    settings = PflSettings(users=4, rounds=1, step=0.05, local="exact", aggregator=aggregator)
    return Scenario("pfl", Component("synreg", {"points": 20, "features": 3}),
                    Component("linreg"), Defense(Component("l2sq")), Component("none"), settings)


@pytest.mark.uses("cm", "l2sq")
def test_aggregator_setting_cm_replaces_the_l2sq_sum_by_the_rules_output() -> None:
    # Beyond seed 004: rho^1 = rho^0 - eta * k * cm(reports), k = 4 kept honest reports.
    case = aggregator_scenario("cm")
    assert case.label.endswith("-aggcm") and "cm" in case.components
    run = setup(case, Seeds(0, 0), torch.device("cpu"))
    assert type(run.server.aggregator) is type(aggregators.make("cm"))
    theta = run.problem.exact(run.init, run.honest)
    reports = run.problem.regularizer.gradient(run.init, theta)
    middle = reports.sort(dim=0).values[1:3].mean(dim=0)  # median of 4: mean of the middle two
    expected = run.init - 0.05 * 4 * middle
    got = simulate(run.problem, run.honest, run.server, run.init).rho
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    plain = run.init - 0.05 * reports.sum(dim=0)
    assert float((got - plain).norm()) > 1e-3  # the rule's output, not the seed's sum
    back = Scenario.from_dict(case.to_dict())
    assert back.settings.aggregator == Component("cm")
    assert Scenario.from_dict(aggregator_scenario(None).to_dict()).settings.aggregator is None


def test_unknown_aggregator_setting_is_refused_naming_the_field() -> None:
    with pytest.raises(SettingsError, match="aggregator: unknown rule 'nosuchrule'"):
        PflSettings(aggregator="nosuchrule")
    with pytest.raises(SettingsError, match="aggregator"):
        PflSettings.from_dict({"aggregator": {"name": "nosuchrule"}})

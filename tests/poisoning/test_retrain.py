"""Protocol ``retrain``: settings validation, id parts, and exact identities of one run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.data.base import DatasetUnavailable
from bench.grid import GridError, expand_grid
from bench.poisoning import threshold as th
from bench.poisoning.data import or2d
from bench.poisoning.settings import RetrainSettings
from bench.poisoning.targets import TargetError
from bench.poisoning.victims import VictimNotConverged, r_squared
from bench.registry import datasets, targets, victims
from bench.run import Seeds, SettingsError, run
from bench.scenario import Component, Defense, Scenario

from .conftest import C_R

pytestmark = pytest.mark.uses("retrain")

def named(*names: str):
    """Run the test once, with an id naming the components it uses (``pytest -k`` selects)."""
    return pytest.mark.parametrize(
        "components", [pytest.param(names, id="-".join(names), marks=pytest.mark.uses(*names))])


HAND_TARGET = Component("pinned", {"w": [-1.0, -1.0], "b": 0.5})


def _scenario(attack: str = "none", defense: str = "none", model: str = "logreg",
              dataset: str = "or2d", **settings) -> Scenario:
    settings.setdefault("target", HAND_TARGET)
    settings.setdefault("c_r", C_R)
    return Scenario("retrain", Component(dataset), Component(model), Defense(Component(defense)),
                    Component(attack), RetrainSettings(**settings))


def _hand_tau() -> float:
    data = or2d()
    margins = data.y_train * (data.x_train @ np.array([-1.0, -1.0]) + 0.5)
    return th.tau_margin(margins, "logistic", rho=C_R * 2.0)


@pytest.mark.parametrize("fields", [{}, {"epsilon": 0.1, "epsilon_over_tau": 0.5}],
                         ids=["neither", "both"])
def test_exactly_one_budget_field(fields) -> None:
    with pytest.raises(SettingsError, match="exactly one of epsilon and epsilon_over_tau"):
        RetrainSettings(**fields)


@pytest.mark.parametrize("value", [0.0, -0.5, 1e3 + 1, float("nan"), "0.1"],
                         ids=["zero", "negative", "over-cap", "undefined", "text"])
@pytest.mark.parametrize("name", ["epsilon", "epsilon_over_tau"])
def test_budget_out_of_range_names_the_field(name, value) -> None:
    with pytest.raises(SettingsError, match=name):
        RetrainSettings(**{name: value})


@pytest.mark.parametrize("fields, field", [({"c_r": 0.0}, "c_r"), ({"attack_epochs": 0},
                         "attack_epochs"), ({"attack_lr": -1.0}, "attack_lr"),
                         ({"data_seed": "other"}, "data_seed")],
                         ids=["regularizer", "epochs", "step", "seed-rule"])
def test_other_settings_name_the_field(fields, field) -> None:
    with pytest.raises(SettingsError, match=field):
        RetrainSettings(epsilon=0.1, **fields)


def test_relative_budget_resolves_against_tau() -> None:
    settings = RetrainSettings(epsilon_over_tau=0.5)
    assert settings.resolve_epsilon(3.0) == 1.5
    with pytest.raises(SettingsError, match="epsilon_over_tau"):
        settings.resolve_epsilon(1e4)
    assert RetrainSettings(epsilon=0.25).resolve_epsilon(7.0) == 0.25


@named("logreg", "or2d", "pinned", "none")
def test_id_parts_name_target_and_budget(components) -> None:
    assert _scenario(epsilon_over_tau=0.5).label == (
        "retrain-or2d-logreg-pinned_b0.5_w-1x-1-none-none-eps0.5tau")
    assert _scenario(epsilon=0.1, c_r=0.01, attack_epochs=50).label.endswith(
        "-eps0.1-cr0.01-ep50")


@named("logreg", "or2d", "pinned", "none")
def test_clean_run_records_the_hand_computed_threshold(components) -> None:
    record = run(_scenario(epsilon_over_tau=2.0), Seeds(0, 0))
    values = record.metrics.values
    assert values["drop"] == 0.0 and values["poisons"] == 0.0
    assert values["tau"] == pytest.approx(_hand_tau(), rel=1e-12)
    assert values["clean_accuracy"] == 1.0 and values["target_accuracy"] == 0.0
    assert values["recovery"] is None
    # With no poisons, Cauchy-Schwarz alone gives ||g(mu) + r|| >= <theta, g(mu) + r>/||theta||.
    assert values["bound_margin"] >= 0.0


@named("logreg", "or2d", "pinned", "gc")
def test_poison_count_and_shares_follow_the_budget(components) -> None:
    scenario = _scenario("gc", epsilon_over_tau=0.5, attack_epochs=5)
    values = run(scenario, Seeds(0, 0)).metrics.values
    eps_d = 0.5 * _hand_tau()
    assert values["poisons"] == round(200 * eps_d)
    assert values["epsilon"] == values["poisons"] / 200
    assert values["poison_share"] == values["epsilon"] / (1 + values["epsilon"])
    assert values["drop"] == pytest.approx(100 * (1.0 - values["poisoned_accuracy"]), abs=1e-12)
    assert values["bound_margin"] >= 0.0


@named("logreg", "or2d", "pinned", "gc", "sever")
def test_recovery_is_defended_minus_undefended_score(components) -> None:
    scenario = _scenario("gc", "sever", epsilon_over_tau=0.5, attack_epochs=20)
    defended = run(scenario, Seeds(0, 0)).metrics.values
    plain = run(_scenario("gc", epsilon_over_tau=0.5, attack_epochs=20), Seeds(0, 0))
    undefended = plain.metrics.values["poisoned_accuracy"]
    assert defended["recovery"] == pytest.approx(
        100 * (defended["poisoned_accuracy"] - undefended), abs=1e-12)


@named("leastsq", "lsq2d", "gradpc", "lsq-exact", "none")
def test_one_copied_point_lands_least_squares_on_target(components) -> None:
    scenario = _scenario("lsq-exact", model="leastsq", dataset="lsq2d", epsilon=0.005,
                         target=Component("gradpc", {"eps_w": 0.5}))
    record = run(scenario, Seeds(0, 0))
    values = record.metrics.values
    assert values["poisons"] == 1.0 and values["tau"] == 0.0
    assert values["target_distance"] < 1e-9 and values["mixture_grad_norm"] < 1e-10
    assert values["bound_margin"] is None
    assert record.metrics.curves["mixture_grad_norm"][-1] < 1e-10


def test_r_squared_of_exact_and_constant_predictions() -> None:
    y = np.array([1.0, 2.0, 4.0])
    assert r_squared(y, y) == 1.0
    assert r_squared(np.full(3, y.mean()), y) == 0.0


@named("logreg")
def test_unconverged_fit_reports_its_gradient_norm(components) -> None:
    data = or2d()
    victim = victims.make("logreg", c_r=C_R, tol=1e-300)
    with pytest.raises(VictimNotConverged, match="gradient norm") as err:
        victim.fit(data.x_train, data.y_train)
    assert math.isfinite(err.value.gradient_norm) and err.value.gradient_norm > 1e-300


@named("pinned", "logreg")
def test_pinned_target_of_wrong_size_is_refused(components) -> None:
    data = or2d()
    victim = victims.make("logreg", c_r=C_R)
    clean = victim.fit(data.x_train, data.y_train)
    pinned = targets.make("pinned", w=[1.0, 2.0, 3.0], b=0.0)
    with pytest.raises(TargetError, match="3 entries"):
        pinned.build(victim.objective, clean, None, None, None, 0)


def _grid(model: str, dataset: str, **defaults) -> dict:
    return {"tier": "smoke", "protocol": "retrain", "defaults": defaults,
            "settings": [{"dataset": dataset, "model": model}], "defenses": ["none"],
            "attacks": ["none"], "expect": {"floor": 0.0}}


@named("leastsq", "or2d", "none")
def test_grid_refuses_a_victim_of_the_wrong_task(components) -> None:
    with pytest.raises(GridError, match="needs a regression data set"):
        expand_grid(_grid("leastsq", "or2d", epsilon=0.1), "grid")


@named("leastsq", "lsq2d", "none")
def test_grid_refuses_a_relative_budget_without_threshold(components) -> None:
    with pytest.raises(GridError, match="tau = 0"):
        expand_grid(_grid("leastsq", "lsq2d", epsilon_over_tau=0.5), "grid")


@named("svm", "classification10d")
def test_hinge_threshold_of_a_negated_separator(components) -> None:
    """tau_hinge = (A + rho) / (1 - rho) with A = mean t l'(t) = -mean(t over t < 1)."""
    data = datasets.make("classification10d")
    victim = victims.make("svm", c_r=C_R)
    clean = victim.fit(data.x_train, data.y_train)
    negated = {k: -v for k, v in clean.items()}
    t = data.y_train * (data.x_train @ negated["w"].numpy() + float(negated["b"]))
    inner = float(np.where(t < 1, -t, 0.0).mean())
    rho = C_R * float(negated["w"].pow(2).sum())
    assert victim.tau(negated, data.x_train, data.y_train) == pytest.approx(
        (inner + rho) / (1 - rho), rel=1e-12)


@named("mnist17")
def test_ones_and_sevens_split(components) -> None:
    try:
        data = datasets.make("mnist17")
    except DatasetUnavailable as err:
        pytest.skip(str(err))
    assert len(data.y_train) + len(data.y_test) == 2163
    assert len(data.y_train) == round(0.8 * 2163)
    assert set(np.unique(data.y_train)) == {-1.0, 1.0}

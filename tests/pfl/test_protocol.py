"""The protocol seam of the PFL track: settings checks, ids, load-time checks, exact oracles."""

from __future__ import annotations

import pytest
import torch

from bench.data.base import DatasetUnavailable
from bench.pfl.exact import global_optimum
from bench.pfl.federation import Federation
from bench.pfl.settings import PflSettings
from bench.pfl.simulation import build_problem, make_target
from bench.registry import pfl_datasets, pfl_models
from bench.run import Seeds, SettingsError, protocol_of, run
from bench.scenario import Component, Defense, Scenario


def scenario(defense: str = "l2sq", attack: str | Component = "none", dataset: str = "synreg",
             model: str = "linreg", **settings) -> Scenario:
    spec = attack if isinstance(attack, Component) else Component(attack)
    fields = {"users": 3, "rounds": 400, "step": 0.05, "local": "exact", **settings}
    return Scenario("pfl", Component(dataset, {"points": 20, "features": 3}), Component(model),
                    Defense(Component(defense)), spec, PflSettings(**fields))


BAD_SETTINGS = [
    ("users", 1), ("users", 2.5), ("lam", 0.0), ("lam", float("nan")), ("step", -0.1),
    ("rounds", 0), ("local", "newton"), ("local_lr", 0.0), ("form", "median"), ("nu", -1.0),
    ("target", "nearest"), ("target_scale", 0.0), ("target_fit", 0), ("target_lr", 0.0),
]


@pytest.mark.parametrize("field, value", [  # ids by position: values such as NaN spell names
    pytest.param(field, value, id=f"{field}-{i}") for i, (field, value) in enumerate(BAD_SETTINGS)
])
def test_each_bad_setting_is_refused_naming_its_field(field: str, value) -> None:
    with pytest.raises(SettingsError, match=field):
        PflSettings(**{field: value})


def test_ids_show_users_lam_eta_rounds_local_mode_form_and_target() -> None:
    label = scenario(local="step", local_lr=0.01, form="mean", nu=0.5).label
    assert label == ("pfl-synreg_features3_points20-linreg-l2sq-none-n3-lam1-eta0.05-t400-"
                     "step0.01-exp-nu0.5-tgt3")


def test_load_time_checks_name_the_offending_field() -> None:
    protocol = protocol_of("pfl")
    bad = {
        "lam": Scenario("pfl", Component("synreg"), Component("linreg"),
                        Defense(Component("l2sq", {"lam": 2.0})), Component("none"),
                        PflSettings()),
        "learns binary": scenario(model="logreg"),
        "local: exact": scenario(dataset="synlogit", model="logreg"),
        "target: mapped": scenario(target="mapped"),
        "needs l2sq": scenario(defense="l2norm", attack="gradpin"),
    }
    for message, case in bad.items():
        with pytest.raises(ValueError, match=message):
            protocol.validate(case)


@pytest.mark.uses("mnistusers")
def test_mnistusers_without_its_files_is_unavailable(tmp_path) -> None:
    with pytest.raises(DatasetUnavailable, match="not found"):
        pfl_datasets.make("mnistusers", folder=str(tmp_path))


def test_no_attack_run_reaches_the_exact_global_optimum() -> None:
    # rho^T of federated GD with exact local solves equals the one linear solve of
    # bench.pfl.exact at T = 400 (contraction 1 - eta * 2 lam N / (1 + ...) per round).
    case = scenario()
    metrics = run(case, Seeds(0, 0)).metrics.values
    data = pfl_datasets.make("synreg", points=20, features=3).users(3, 0)
    problem = build_problem(case, data)
    optimum, _ = global_optimum(problem, Federation.stack(data.users))
    target = make_target(problem.loss, data, case.settings, 0)
    assert metrics["target_distance"] == pytest.approx(float((optimum - target).norm()), rel=1e-9)
    assert metrics["target_distance_ratio"] == pytest.approx(
        float((optimum - target).norm() / target.norm()), rel=1e-9)
    assert metrics["rho_norm"] == pytest.approx(float(optimum.norm()), rel=1e-9)
    assert metrics["poison_count"] == 0 and metrics["attacker_distance"] is None
    assert metrics["true_accuracy"] is None


@pytest.mark.uses("onepoint")
def test_onepoint_poison_counts_once_among_the_honest_points() -> None:
    metrics = run(scenario(attack="onepoint"), Seeds(0, 0)).metrics.values
    assert metrics["poison_count"] == 1
    assert metrics["poison_ratio"] == pytest.approx(1 / (1 + 3 * 20), rel=1e-12)


def test_recorded_curve_starts_at_the_target_distance_of_rho_zero() -> None:
    record = run(scenario(defense="l2norm", attack="cga", rounds=20), Seeds(0, 0))
    curve = record.metrics.curves["target_distance"]
    data = pfl_datasets.make("synreg", points=20, features=3).users(3, 0)
    target = make_target(build_problem(scenario(), data).loss, data, PflSettings(), 0)
    assert len(curve) == 21
    assert curve[0] == pytest.approx(float(target.norm()), rel=1e-12)
    assert curve[-1] == pytest.approx(record.metrics.values["target_distance"], rel=1e-12)
    assert record.timing.counters["rounds"] == 20
    assert torch.isfinite(torch.tensor(curve)).all()


@pytest.mark.uses("softmax")
def test_softmax_takes_its_class_count_from_the_data() -> None:
    # (p + 1) x K parameters: 785 x 10 = 7,850 for MNIST, 4 x 3 = 12 for p = 3, K = 3.
    assert pfl_models.make_with_optional("softmax", {"classes": 10}).dim(784) == 7850
    assert pfl_models.make_with_optional("softmax", {"classes": 3}).dim(3) == 12


@pytest.mark.uses("cga", "l2sq", "l2norm")
def test_target_reached_flags_cga_on_l2sq_and_not_on_l2norm() -> None:
    # Theorem 4: CGA drives rho to theta_dagger against l2sq; against l2 it stays far (Fig. 1).
    broken = run(scenario(attack="cga", rounds=200), Seeds(0, 0)).metrics.values
    resisted = run(scenario(defense="l2norm", attack="cga", rounds=200), Seeds(0, 0)).metrics.values
    assert broken["target_distance_ratio"] <= 0.1 and broken["target_reached"] == 1.0
    assert resisted["target_distance_ratio"] > 0.1 and resisted["target_reached"] == 0.0

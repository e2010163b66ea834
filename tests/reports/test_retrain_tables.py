"""The retrain track's leaderboard from synthetic records: one table per data set with victims x
attacks as rows and targets x budgets as columns, so seed 001's n_p and lower bound per victim x
target error sit side by side (seed 001 Table 2's layout) in the secondary tables."""

from __future__ import annotations

import pytest

from bench.leaderboard.markdown import markdown_table
from bench.leaderboard.table import build_groups
from bench.poisoning.settings import RetrainSettings
from bench.results import Metrics, RunRecord, Timing
from bench.scenario import Component, Defense, Scenario

pytestmark = pytest.mark.uses("retrain")

UNITS = {"drop": "points", "poisoned_accuracy": "fraction", "poisons": "count",
         "lower_bound": "count"}


def retrain_record(model: str, goal: float, poisons: float, bound: float | None) -> RunRecord:
    """A made-up Algorithm 1 run (placeholder names: the tables read labels only)."""
    settings = RetrainSettings(target=Component("toytarget", {"goal": goal}), epsilon=0.35)
    scenario = Scenario("retrain", Component("toyset"), Component(model),
                        Defense(Component("none")), Component("toyattack"), settings)
    values = {"drop": 10 * goal, "poisoned_accuracy": 1 - goal, "poisons": poisons,
              "lower_bound": bound, "test_size": 400.0}
    return RunRecord(scenario=scenario.to_dict(), seeds={"split": 0, "train": 0},
                     metrics=Metrics("drop", values, UNITS), timing=Timing(wall_s=1.0),
                     environment={"python": "3.11", "torch": "2.x", "device": "cpu",
                                  "device_name": "cpu", "git_revision": "abc1234"},
                     config_hash=scenario.config_hash(), tier="smoke")


def test_victims_by_target_errors_in_one_table() -> None:
    records = [retrain_record("toysvm", 0.05, 485.0, 90.0),
               retrain_record("toysvm", 0.1, 549.0, 206.0),
               retrain_record("toylr", 0.05, 215.0, None),
               retrain_record("toylr", 0.1, 471.0, None)]
    (group,) = build_groups(records)
    by_metric = {t.metric: t for t in group.secondary}
    poisons, bound = by_metric["poisons"], by_metric["lower_bound"]
    assert poisons.row_header == "model/attack/defense"
    assert poisons.attacks == ["toytarget_goal0.05/epsilon=0.35",
                               "toytarget_goal0.1/epsilon=0.35"]
    cells = {r.defense: [r.cells[a].avg for a in poisons.attacks] for r in poisons.rows}
    assert cells == {"toysvm/toyattack/none": [485.0, 549.0],
                     "toylr/toyattack/none": [215.0, 471.0]}
    assert [r.defense for r in bound.rows] == ["toysvm/toyattack/none"]  # LR has no bound
    assert "| worst case | worst target/epsilon/epsilon_over_tau |" in markdown_table(poisons)

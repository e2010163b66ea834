"""The recovered offset's leaderboard (bench/grids/smoke-offset.yaml's layout) from synthetic
records: aggregators as ranked rows, one column per aggregation threat model."""

from __future__ import annotations

import pytest

from bench.leaderboard.markdown import markdown_table
from bench.leaderboard.table import build_groups

THREATS = {"none": {}, "after": {"clip": "after", "bound": 1.0},
           "before": {"clip": "before", "bound": 1.0}}


@pytest.mark.parametrize("name", [pytest.param("recovered-offset", id="recovered-offset",
                                               marks=pytest.mark.uses("recovered-offset"))])
def test_aggregators_by_threat_models(make_record, name: str) -> None:
    """rule_a 0 % under no clip and clip after (the offset reaches G_poi), 48 % clipped before;
    rule_b 70 % under all three (the smoke grid's measured pattern of mean vs a robust rule)."""
    accuracies = {("rule_a", "none"): 0.0, ("rule_a", "after"): 0.0, ("rule_a", "before"): 0.48,
                  ("rule_b", "none"): 0.70, ("rule_b", "after"): 0.70, ("rule_b", "before"): 0.70}
    records = []
    for (defense, threat), accuracy in accuracies.items():
        record = make_record(defense, name, accuracy)
        record.scenario["attack"] = {"name": name, "params": THREATS[threat]}
        records.append(record)
    (group,) = build_groups(records)
    columns = [name, f"{name}_bound1_clipafter", f"{name}_bound1_clipbefore"]
    assert sorted(group.attacks) == sorted(columns)
    assert [(r.defense, r.rank, r.worst) for r in group.rows] == [("rule_b", 1, 70.0),
                                                                  ("rule_a", 2, 0.0)]
    lines = markdown_table(group).splitlines()
    assert all(c in lines[0] for c in columns)
    assert lines[3].startswith("| 2 | rule_a |") and "48.0" in lines[3]

"""The gate for a new aggregator: ``pytest cases -m gate --aggregator module:Class``.

Three families of gate cases, all against the candidate named by ``--aggregator``:

* ``test_gate_attack``: one case per attack and setting of ``grids/gate.yaml``; the candidate's
  accuracy must reach the gate's floor (so its worst case over attacks does too);
* ``test_gate_worst_case``: per setting, the candidate's worst case over attacks must stay within
  the gate's margin of the reference defense's worst case on the same runs;
* ``test_gate_cost``: one aggregation may cost at most the declared multiple of ``mean``.

Without ``--aggregator`` the gate has no candidate and its cases are skipped with that reason.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from bench.gate import GateSpec, cost_ratio, load_gate
from bench.grid import Case
from bench.grids import grid_path
from pytest_byzbench.cases import attach, case_runner, run_case
from pytest_byzbench.gate import candidate
from pytest_byzbench.records import SHOWN_PROPERTY

GATE = load_gate(grid_path("gate"))
NO_CANDIDATE = pytest.param(None, id="without-candidate",
                            marks=[pytest.mark.gate, pytest.mark.skip(reason="no --aggregator")])


def setting_label(case: Case) -> str:
    s = case.scenario
    return "-".join([s.protocol, s.dataset.label, s.model.label, *s.settings.head(),
                     *s.settings.tail()])


def by_setting(spec: GateSpec, defense) -> dict[str, list[Case]]:
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in spec.cases(defense):
        groups[setting_label(case)].append(case)
    return groups


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    rule = candidate(metafunc.config)
    gate = pytest.mark.gate
    if "gate_case" in metafunc.fixturenames:
        params = [NO_CANDIDATE] if rule is None else [
            pytest.param(c, id=c.id, marks=[gate, pytest.mark.uses(*c.components)])
            for c in GATE.cases(rule)
        ]
        metafunc.parametrize("gate_case", params)
    if "gate_setting" in metafunc.fixturenames:
        params = [NO_CANDIDATE] if rule is None else []
        if rule is not None:
            reference = by_setting(GATE, GATE.reference)
            for label, cases in by_setting(GATE, rule).items():
                s = cases[0].scenario
                uses = (*rule.names, *GATE.reference.names, s.protocol, s.dataset.name,
                        s.model.name, s.settings.split.name)
                params.append(pytest.param(
                    (cases, reference[label]),
                    id=f"{rule.label}-vs-{GATE.reference.label}-{label}",
                    marks=[gate, pytest.mark.uses(*uses)],
                ))
        metafunc.parametrize("gate_setting", params)
    if "gate_rule" in metafunc.fixturenames:
        params = [NO_CANDIDATE] if rule is None else [pytest.param(
            rule, id=f"{rule.label}-n{GATE.cost['n']}-d{GATE.cost['d']}",
            marks=[gate, pytest.mark.uses(*rule.names)])]
        metafunc.parametrize("gate_rule", params)


def worst_case(cases: list[Case], runner, seeds: list[int] | None) -> tuple[float, str]:
    """The lowest median accuracy over ``cases`` (one per attack) and the attack that got it."""
    accuracy = {c.scenario.attack.label: runner.median(c, seeds) for c in cases}
    attack = min(accuracy, key=accuracy.get)
    return accuracy[attack], attack


def test_gate_attack(gate_case, device, seed_override, record_property, pytestconfig) -> None:
    run_case(gate_case, device, seed_override, record_property, pytestconfig)


def test_gate_worst_case(gate_setting, device, seed_override, record_property,
                         pytestconfig) -> None:
    mine, theirs = gate_setting
    runner = case_runner(pytestconfig, device)
    worst, attack = worst_case(mine, runner, seed_override)
    ref_worst, ref_attack = worst_case(theirs, runner, seed_override)
    for case in theirs:
        attach(record_property, runner.evaluate(case, seed_override))
    record_property(SHOWN_PROPERTY, 100 * worst)  # the summary shows the candidate's worst case
    assert worst >= ref_worst - GATE.margin, (
        f"worst case over {len(mine)} attacks {100 * worst:.1f}% (under {attack}) is more than "
        f"{100 * GATE.margin:.0f} points below {GATE.reference.label}'s "
        f"{100 * ref_worst:.1f}% (under {ref_attack})"
    )


def test_gate_cost(gate_rule, device) -> None:
    f = GATE.grid.get("defaults", {}).get("f", 0)
    ratio = cost_ratio(gate_rule.aggregator, f, GATE.cost["n"], GATE.cost["d"],
                       GATE.cost["repeats"], device)
    assert ratio <= GATE.cost["max_ratio_to_mean"], (
        f"one aggregation costs {ratio:.1f}x mean at n={GATE.cost['n']}, d={GATE.cost['d']}, "
        f"above the gate's {GATE.cost['max_ratio_to_mean']}x"
    )

"""Seed 003's orderings, checked on the standard tier's runs (``-m standard``).

Claims and their margins live in the orderings files ``bench/grids/orderings*.yaml``, one per
block of standard grids (validated by :mod:`bench.orderings`).  Runs are shared between the
cases and claims of a process through the session's case runner; under ``pytest -n`` the cases
and claims of one setting at one momentum form one ``xdist_group`` (see
:func:`pytest_byzbench.cases.shared_runs_group`), so each simulation runs once.  Ids name every
component a claim compares (``-k rop`` selects the claims about ROP).  A claim that does not
hold at the budget affordable on a CPU is marked in its file as a strict expected failure with
the measured reason.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bench.grid import Case, load_grid
from bench.grids import orderings_files
from bench.orderings import Orderings, load_orderings
from bench.results import RunRecord
from pytest_byzbench.cases import (
    RECORD_PROPERTY,
    case_runner,
    shared_runs_group,
    skip_unless_runnable,
)

SPECS = [load_orderings(path) for path in orderings_files()]


@dataclass(frozen=True)
class Setting:
    """One setting of an orderings file's grids: its cases and the file's claims."""

    spec: Orderings
    cases: dict[tuple[str, str, float], Case]  # (defense label, attack label, beta) -> case

    def claim(self, kind: str) -> dict[str, Any] | None:
        return self.spec.claims.get(kind)


def _index() -> dict[str, Setting]:
    """setting label -> its cases and claims, over every orderings file."""
    out: dict[str, Setting] = {}
    for spec in SPECS:
        for grid in spec.grids:
            for case in load_grid(grid):
                s = case.scenario
                label = "-".join([s.protocol, s.dataset.label, s.model.label, *s.settings.head()])
                setting = out.setdefault(label, Setting(spec, {}))
                setting.cases[(s.defense.label, s.attack.label, s.settings.beta)] = case
    return out


INDEX = _index()


class Runs:
    """Median accuracies and diagnostics of one setting's cases, simulated on first use."""

    def __init__(self, setting: str, device: str, seeds: list[int] | None, record_property,
                 config: pytest.Config):
        self.cases = INDEX[setting].cases
        self.device, self.seeds, self.record = device, seeds, record_property
        self.runner = case_runner(config, device)

    def records(self, defense: str, attack: str, beta: float) -> list[RunRecord]:
        case = self.cases[(defense, attack, beta)]
        skip_unless_runnable(case, self.device)
        out = self.runner.records(case, self.seeds)
        for record in out:
            self.record(RECORD_PROPERTY, record.to_json())
        return out

    def accuracy(self, defense: str, attack: str, beta: float) -> float:
        """Median final accuracy in points."""
        runs = self.records(defense, attack, beta)
        return 100 * statistics.median(r.metrics.values["final_accuracy"] for r in runs)

    def diagnostic(self, defense: str, attack: str, beta: float, key: str) -> float:
        return statistics.median(r.metrics.diagnostics[key]
                                 for r in self.records(defense, attack, beta))


def _components(setting: str, *names: str) -> tuple[str, ...]:
    any_case = next(iter(INDEX[setting].cases.values())).scenario
    return (any_case.protocol, any_case.dataset.name, any_case.model.name,
            any_case.settings.split.name,
            *(n.split("_")[0] for n in names))


def _param(claim: str, setting: str, label: str, names: tuple[str, ...], **values):
    test_id = f"{setting}-{label}"
    marks = [pytest.mark.standard, pytest.mark.uses(*_components(setting, *names))]
    if "beta" in values:  # a claim at one momentum shares the runs of that momentum's cases
        case = next(c for (_, _, b), c in INDEX[setting].cases.items() if b == values["beta"])
        marks.append(pytest.mark.xdist_group(shared_runs_group(case)))
    reason = INDEX[setting].spec.xfail.get((claim, test_id))
    if reason is not None:
        marks.append(pytest.mark.xfail(reason=reason, strict=True))
    return pytest.param(dict(setting=setting, **values), id=test_id, marks=marks)


def _params(claim: str) -> Iterator:
    for setting, entry in INDEX.items():
        c = entry.claim(claim)
        if c is None:
            continue
        split = next(iter(entry.cases.values())).scenario.settings.split.name
        if claim == "strongest-attack":
            for beta in c["betas"]:
                names = (c["defense"], c["attack"], *c["others"])
                yield _param(claim, setting, f"{'-'.join(names)}-b{beta}", names, beta=beta)
        elif claim == "damage-falls-with-beta":
            names = (c["defense"], c["attack"], "none")
            yield _param(claim, setting, "-".join(names), names)
        elif claim == "weak-flips":
            for defense in c["defenses"]:
                for beta in c["betas"]:
                    names = (defense, *c["max_drop"], "none")
                    yield _param(claim, setting, f"{'-'.join(names)}-b{beta}", names,
                                 defense=defense, beta=beta)
        elif claim == "small-radius-fails" and split.startswith(c["split"]):
            names = (c["defense"], c["reference"], "none")
            yield _param(claim, setting, f"{'-'.join(names)}-b{c['beta']}", names, beta=c["beta"])
        elif claim == "alternating-alie":
            names = (c["defense"], "alie-alt")
            yield _param(claim, setting, f"{'-'.join(names)}-b{c['beta']}", names, beta=c["beta"])
        elif claim == "alie-consistency":
            names = (c["defense"], "alie")
            yield _param(claim, setting, f"{'-'.join(names)}-b{c['beta']}", names, beta=c["beta"])
        elif claim == "rop-looks-aligned":
            for defense in c["defenses"]:
                for beta in c["betas"]:
                    names = (defense, "rop")
                    yield _param(claim, setting, f"{'-'.join(names)}-b{beta}", names,
                                 defense=defense, beta=beta)


def _claim(claim: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``kind`` claim of the orderings file that holds ``claim``'s setting."""
    return INDEX[claim["setting"]].claim(kind)


FUNCTION_CLAIMS = {
    "test_strongest_attack": "strongest-attack",
    "test_damage_falls_with_momentum": "damage-falls-with-beta",
    "test_flips_are_weak": "weak-flips",
    "test_small_radius_fails_without_attack": "small-radius-fails",
    "test_alternating_sign_hurts_less": "alternating-alie",
    "test_consecutive_perturbations_align": "alie-consistency",
    "test_relocated_messages_look_aligned": "rop-looks-aligned",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "claim" in metafunc.fixturenames:
        metafunc.parametrize("claim", list(_params(FUNCTION_CLAIMS[metafunc.function.__name__])))


@pytest.fixture
def runs(claim, device, seed_override, record_property, pytestconfig) -> Runs:
    return Runs(claim["setting"], device, seed_override, record_property, pytestconfig)


def test_strongest_attack(claim, runs) -> None:
    c, beta = _claim(claim, "strongest-attack"), claim["beta"]
    target = runs.accuracy(c["defense"], c["attack"], beta)
    others = {a: runs.accuracy(c["defense"], a, beta) for a in c["others"]}
    closest = min(others, key=others.get)
    assert target + c["margin"] < others[closest], (
        f"{c['attack']} {target:.1f}% is not below every other attack: {closest} "
        f"{others[closest]:.1f}% (margin {others[closest] - target:+.1f})")


def test_damage_falls_with_momentum(claim, runs) -> None:
    c = _claim(claim, "damage-falls-with-beta")
    low, high = c["betas"]
    damage = {b: runs.accuracy(c["defense"], "none", b)
              - runs.accuracy(c["defense"], c["attack"], b) for b in (low, high)}
    assert damage[low] > damage[high] + c["margin"], (
        f"{c['attack']} costs {damage[low]:.1f} points at beta {low} and {damage[high]:.1f} at "
        f"beta {high}")


def test_flips_are_weak(claim, runs) -> None:
    c, defense, beta = _claim(claim, "weak-flips"), claim["defense"], claim["beta"]
    clean = runs.accuracy(defense, "none", beta)
    for attack, max_drop in c["max_drop"].items():
        drop = clean - runs.accuracy(defense, attack, beta)
        assert drop <= max_drop, f"{attack} costs {defense} {drop:.1f} points (> {max_drop})"


def test_small_radius_fails_without_attack(claim, runs) -> None:
    c = _claim(claim, "small-radius-fails")
    small = runs.accuracy(c["defense"], "none", c["beta"])
    other = runs.accuracy(c["reference"], "none", c["beta"])
    assert small < other - c["margin"], (
        f"{c['defense']} reaches {small:.1f}% without attack, {c['reference']} {other:.1f}% "
        f"(needs a gap of {c['margin']})")


def test_alternating_sign_hurts_less(claim, runs) -> None:
    c = _claim(claim, "alternating-alie")
    plain = runs.accuracy(c["defense"], "alie", c["beta"])
    alternating = runs.accuracy(c["defense"], "alie-alt", c["beta"])
    assert alternating > plain + c["margin"], (
        f"alie-alt {alternating:.1f}% vs alie {plain:.1f}% on {c['defense']}")


def test_consecutive_perturbations_align(claim, runs) -> None:
    c = _claim(claim, "alie-consistency")
    cosine = runs.diagnostic(c["defense"], "alie", c["beta"], "alie_consecutive_cosine")
    assert cosine >= c["minimum"], f"mean consecutive cosine {cosine:.3f} < {c['minimum']}"


def test_relocated_messages_look_aligned(claim, runs) -> None:
    c, defense, beta = _claim(claim, "rop-looks-aligned"), claim["defense"], claim["beta"]
    byzantine = runs.diagnostic(defense, "rop", beta, "rop_reference_cosine")
    honest = runs.diagnostic(defense, "rop", beta, "honest_reference_cosine")
    assert byzantine > honest + c["margin"], (
        f"ROP's cosine to the reference {byzantine:.3f} vs honest {honest:.3f}")

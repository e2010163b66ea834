"""Seed 000 Table 1's structural claims, checked on the online standard grid's runs.

Each claim compares medians over the grid's seeds of cells of ``bench/grids/online-standard.yaml``
(real MNIST digits as pixels, an MLP, CPU budget); the runs are shared with the grid's own cases
through the session's case runner.  A claim that does not hold at this budget is a strict
expected failure whose reason is the measured value (``MEASURED``).  The paper's values are
CIFAR-10 / ResNet-18-GN (notes §II.6); only the orderings carry over.
"""

from __future__ import annotations

import pytest

from bench.grid import Case, load_grid
from bench.grids import grid_path
from pytest_byzbench.cases import attach, case_runner, claim_param, skip_unless_runnable

CASES = load_grid(grid_path("online-standard"))
EIGHT_OF_255, SIXTEEN_OF_255, TENTH = 8 / 255, 16 / 255, 0.1
GROUPS = [("clean", TENTH, False), ("poisoned", EIGHT_OF_255, False),
          ("poisoned", EIGHT_OF_255, True), ("poisoned", SIXTEEN_OF_255, False),
          ("poisoned", SIXTEEN_OF_255, True), ("poisoned", TENTH, False),
          ("poisoned", TENTH, True)]
STEALTH_POINTS = 3.5


def cell(attack: str, trigger: str, eps: float, optimize: bool, momentum: float) -> Case:
    """The grid's case with these fields (exactly one)."""
    found = [c for c in CASES
             if c.scenario.attack.name == attack and c.scenario.settings.trigger == trigger
             and abs(c.scenario.settings.eps - eps) < 1e-12
             and c.scenario.settings.optimize_trigger == optimize
             and c.scenario.settings.weight_momentum == momentum]
    assert len(found) == 1, f"{len(found)} cells for {attack} {trigger} {eps} {optimize}"
    return found[0]


def group_id(trigger: str, eps: float, optimize: bool) -> str:
    levels = round(eps * 255)
    budget = "eps0.1" if eps == TENTH else f"eps{levels}of255"
    return f"{trigger}trigger-{budget}" + ("-optp" if optimize else "")


# Claims that fail at the CPU budget, with the medians measured over seeds 0-9 (one CPU core,
# 2026-12-02). Margins of the passing ones, for scale (paired per-seed sd in brackets): phase
# clean 0.32 (0.50), phase 8/255 0.21 (0.61), momentum 0.03-1.34 (0.64-1.76), budget 0.95 (0.83):
# momentum at eps 0.1 without P passes by 0.03 points, within seed noise.
MEASURED: dict[str, str] = {
    "phase-poisonedtrigger-eps16of255": "measured Δ with the phase -0.18 vs trigger alone -0.24 "
                                        "points (medians, seeds 0-9; 2 of 10 seeds order)",
    "phase-poisonedtrigger-eps0.1": "measured Δ with the phase -0.42 vs trigger alone -0.74 "
                                    "points (medians, seeds 0-9; 3 of 10 seeds order)",
}


def claim(name: str, *cases: Case):
    """``pytest.param`` of a claim: id ``name`` then the names of every component it compares
    (marked with them), and, where ``MEASURED`` has it, a strict expected failure with the
    measured reason."""
    components = sorted({n for c in cases for n in c.components})
    return claim_param("-".join([name, *components]), components, cases,
                       measured=MEASURED.get(name))


def medians(request: pytest.FixtureRequest, device: str, record_property, metric: str,
            *cases: Case) -> list[float]:
    runner = case_runner(request.config, device)
    out = []
    for case in cases:
        skip_unless_runnable(case, device)
        out.append(runner.median(case, metric=metric))
        attach(record_property, runner.evaluate(case))
    return out


PHASE = [claim(f"phase-{group_id(t, e, o)}", cell("none", t, e, o, 0.0),
               cell("phase", t, e, o, 0.0)) for t, e, o in GROUPS if not o]
MOMENTUM = [claim(f"momentum-{group_id(t, e, o)}", cell("phase", t, e, o, 0.0),
                  cell("phase", t, e, o, 0.9)) for t, e, o in GROUPS]
BUDGET = [claim("budget-tenth-over-eight", cell("none", "poisoned", EIGHT_OF_255, False, 0.0),
                cell("none", "poisoned", TENTH, False, 0.0))]
STEALTH = [claim(f"stealth-{group_id(t, e, o)}-wm{m}", cell("none", "clean", TENTH, False, 0.0),
                 cell("phase", t, e, o, m)) for t, e, o in GROUPS for m in (0.0, 0.9)]
CLEAN = [claim("clean-trigger-alone", cell("none", "clean", TENTH, False, 0.0))]


@pytest.mark.parametrize("pair", PHASE)
def test_phase_increases_damage(pair, request, device, record_property) -> None:
    """|Δ| with the accumulative phase exceeds |Δ| of the trigger alone (Δ more negative)."""
    alone, phased = medians(request, device, record_property, "delta", *pair)
    assert phased < alone, f"Δ with the phase {phased:+.2f} vs trigger alone {alone:+.2f}"


@pytest.mark.parametrize("pair", MOMENTUM)
def test_weight_momentum_increases_damage(pair, request, device, record_property) -> None:
    plain, momentum = medians(request, device, record_property, "delta", *pair)
    assert momentum < plain, f"Δ with momentum 0.9 {momentum:+.2f} vs without {plain:+.2f}"


@pytest.mark.parametrize("pair", BUDGET)
def test_larger_budget_increases_trigger_damage(pair, request, device, record_property) -> None:
    small, large = medians(request, device, record_property, "delta", *pair)
    assert large < small, f"Δ at eps 0.1 {large:+.2f} vs at 8/255 {small:+.2f}"


@pytest.mark.parametrize("pair", STEALTH)
def test_before_trigger_stays_near_clean(pair, request, device, record_property) -> None:
    clean, attacked = (100 * v for v in medians(request, device, record_property,
                                                 "accuracy_before", *pair))
    assert abs(attacked - clean) <= STEALTH_POINTS, \
        f"accuracy before the trigger {attacked:.2f}% vs clean {clean:.2f}%"


@pytest.mark.parametrize("single", CLEAN)
def test_clean_trigger_alone_does_not_hurt(single, request, device, record_property) -> None:
    (delta,) = medians(request, device, record_property, "delta", *single)
    assert delta >= -1.0, f"Δ of the clean trigger alone {delta:+.2f}"

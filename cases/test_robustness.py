"""Every cell of every shipped grid (``bench/grids/*.yaml``, any protocol) as a test case.

Ids are ``protocol-dataset-model-HEAD-defense-attack-TAIL`` (``-TIER`` outside the smoke tier)
so ``pytest -k NAME`` selects a component's cases.  Each case runs every seed through the
session's case runner, attaches its records for the leaderboard and asserts the verdict
(floors, ceilings, bounds, references, timing).
"""

from __future__ import annotations

import pytest

from bench.grids import case_grids, orderings_files
from bench.orderings import load_orderings
from pytest_byzbench.cases import case_params, run_case

CASE_GRIDS = case_grids()
COMPARED = [grid for path in orderings_files() for grid in load_orderings(path).grids]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", case_params(CASE_GRIDS, shared=COMPARED))


def test_robustness(case, device, seed_override, record_property, pytestconfig) -> None:
    verbose = pytestconfig.getoption("capture") == "no" or pytestconfig.getoption("verbose") > 1
    run_case(case, device, seed_override, record_property, pytestconfig, verbose)

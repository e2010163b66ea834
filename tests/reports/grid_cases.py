"""The tiny grid's cases, for the reporting tests only: not a ``test_*`` module, so pytest runs
it only when named on the command line (tests/reports runs it in subprocesses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_byzbench.cases import case_params, run_case


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", case_params([Path(__file__).parent / "tiny_grid.yaml"]))


def test_grid_case(case, device, seed_override, record_property, pytestconfig) -> None:
    run_case(case, device, seed_override, record_property, pytestconfig)

"""Shared helpers of the reliability suites: the command line and pytest run in this process
(fast, and an escaped exception is caught as a traceback), and a finished board of the tiny grid
(tests/reports/tiny_grid.yaml: 2 defenses x 2 attacks x 2 seeds, a fraction of a second each)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bad_input_counts import (  # noqa: E402
    GRID_CASES,
    TINY_GRID,
    TINY_RUNS,
    Outcome,
    byzbench_here,
    inner_pytest,
)


@pytest.fixture(scope="session")
def tiny_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A leaderboard folder of the tiny grid's 8 records, made by ``byzbench run -j 1``."""
    out = tmp_path_factory.mktemp("tiny") / "board"
    done = byzbench_here("run", str(TINY_GRID), "--leaderboard", str(out), "-j", "1")
    assert done.code == 0, done.text
    assert len(list((out / "records").glob("*.json"))) == TINY_RUNS
    return out


@pytest.fixture
def board_copy(tiny_board: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny board's records (no tables), to damage."""
    copy = tmp_path / "board"
    shutil.copytree(tiny_board / "records", copy / "records")
    return copy


@pytest.fixture
def byzbench() -> Callable[..., Outcome]:
    """``byzbench(*argv)``: :func:`bad_input_counts.byzbench_here`."""
    return byzbench_here


@pytest.fixture
def cases_here() -> Callable[..., Outcome]:
    """``cases_here(*args)``: :func:`bad_input_counts.inner_pytest` on the tiny grid's cases."""
    return lambda *args: inner_pytest(str(GRID_CASES), *args)

"""Shared helpers of the reporting tests: synthetic records, and runs of the tiny grid
(tests/reports/grid_cases.py) in pytest subprocesses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.fl import federated_scenario
from bench.results import Metrics, RunRecord, Timing
from bench.scenario import Component, Defense

ROOT = Path(__file__).resolve().parents[2]
GRID_CASES = Path(__file__).parent / "grid_cases.py"
ENVIRONMENT = {"python": "3.11", "torch": "2.x", "device": "cpu", "device_name": "cpu",
               "git_revision": "abc1234"}


def synthetic_record(
    defense: str = "rule_a",
    attack: str = "none",
    final: float = 0.9,
    seed: int = 0,
    *,
    tier: str = "smoke",
    n: int = 10,
    f: int = 2,
    epochs: float = 3,
    created: str = "2026-01-01T00:00:00+00:00",
    curve: list[float] | None = None,
) -> RunRecord:
    """A record with made-up component names (the tables only read labels)."""
    scenario = federated_scenario(
        "fedsgd", dataset=Component("toyset"), model=Component("toynet"),
        defense=Defense(Component(defense)), attack=Component(attack), split=Component("even"),
        n=n, f=f, epochs=epochs)
    curve = curve or [final / 2, final]
    return RunRecord(
        scenario=scenario.to_dict(),
        seeds={"split": 0, "train": seed},
        metrics=Metrics("final_accuracy", {"final_accuracy": final, "best_accuracy": max(curve)},
                        {"final_accuracy": "fraction", "best_accuracy": "fraction"},
                        {"test_accuracy": curve}, False, {"score": 1.5}),
        timing=Timing(wall_s=2.0, phases={"clients": 1.0, "attack": 0.5, "aggregation": 0.5},
                      counters={"rounds": 20}),
        environment=dict(ENVIRONMENT),
        config_hash=scenario.config_hash(),
        tier=tier,
        created=created,
    )


@pytest.fixture
def make_record() -> Callable[..., RunRecord]:
    return synthetic_record


def run_pytest(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m pytest tests/reports/grid_cases.py ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(GRID_CASES.relative_to(ROOT)), "-q",
         "-W", "ignore::pytest_benchmark.logger.PytestBenchmarkWarning", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def grid_pytest() -> Callable[..., subprocess.CompletedProcess]:
    """:func:`run_pytest`, for tests (test modules do not import conftest modules)."""
    return run_pytest


@pytest.fixture(scope="session")
def serial_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid run serially with ``--leaderboard``: a folder of 8 records."""
    out = tmp_path_factory.mktemp("serial")
    proc = run_pytest("-p", "no:xdist", "--leaderboard", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def raised_baseline(serial_board: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serial records as a baseline, with the ``mean``/``alie`` case raised by 5 points on
    both seeds (so the rerun looks 5 points worse) and the ``tm``/``alie`` case removed (so it
    has no baseline)."""
    from bench.results import load_records, save_record

    out = tmp_path_factory.mktemp("baseline")
    for record in load_records(serial_board):
        scenario = record.scenario
        names = (scenario["defense"]["aggregator"]["name"], scenario["attack"]["name"])
        if names == ("tm", "alie"):
            continue
        if names == ("mean", "alie"):
            record.metrics.values["final_accuracy"] += 0.05
            assert record.metrics.values["final_accuracy"] <= 1.0, (
                "tiny grid too easy to raise its baseline")
        save_record(record, out)
    return out


@pytest.fixture(scope="session")
def parallel_run(
    raised_baseline: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess, Path]:
    """The tiny grid on two xdist workers with ``--leaderboard`` and the raised baseline."""
    out = tmp_path_factory.mktemp("parallel")
    proc = run_pytest("-n", "2", "--leaderboard", str(out), "--baseline", str(raised_baseline))
    return proc, out

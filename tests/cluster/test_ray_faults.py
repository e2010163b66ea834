"""Faults on a local Ray of 2 CPUs (started once for the module): a worker that dies is
retried and loses no record, an interrupted ``byzbench run --ray`` resumes with only the rest,
a run that raises is recorded as failed while the others go on."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import bench.cluster
from bench.cli import main
from bench.cluster import RayBackend, start_local_ray
from bench.grid import load_grids
from bench.progress import ProgressBar
from bench.results import load_records
from bench.schedule import Job, JobResult, SerialBackend, execute, run_jobs

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install byzbench[ray])")

TINY = Path(__file__).parents[1] / "reports" / "tiny_grid.yaml"


@pytest.fixture(scope="module")
def ray_address() -> str:
    """The address of a local Ray with 2 CPUs, for the whole module.  Its workers import
    modules from their own path, which lacks tests/, so this module's runners travel by value."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    start_local_ray(2)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def first_seed_jobs() -> list[Job]:
    """The tiny grid's 4 cases at training seed 0."""
    return [Job(case, 0) for case in load_grids([TINY])]


@pytest.fixture(scope="module")
def serial_metrics(first_seed_jobs) -> dict:
    """Metrics of each job run in this process: the oracle a Ray run must match."""
    results, _ = run_jobs(first_seed_jobs, SerialBackend("cpu"), None)
    return {r.job.key: r.record.metrics for r in results}


@dataclass(frozen=True)
class ExitOnFirstAttempt:
    """Runs a job, except that the first attempt of each job in ``keys`` kills its own worker
    process (``os._exit``); a marker file per key remembers the attempt across processes."""

    markers: Path
    keys: frozenset[str]

    def __call__(self, job: Job, device: str, threads: int | None) -> JobResult:
        marker = self.markers / job.key
        if job.key in self.keys and not marker.exists():
            marker.touch()
            os._exit(3)
        return execute(job, device, threads)


@dataclass(frozen=True)
class RaiseFor:
    """Runs a job, except that each job in ``keys`` raises in the worker."""

    keys: frozenset[str]

    def __call__(self, job: Job, device: str, threads: int | None) -> JobResult:
        if job.key in self.keys:
            raise RuntimeError(f"planted failure in {job.label}")
        return execute(job, device, threads)


def test_dead_worker_is_retried_and_no_record_is_lost(ray_address, first_seed_jobs,
                                                      serial_metrics, tmp_path) -> None:
    doomed = frozenset({first_seed_jobs[1].key})
    backend = RayBackend("cpu", workers=2, retries=2,
                         runner=ExitOnFirstAttempt(tmp_path, doomed))
    results, tally = run_jobs(first_seed_jobs, backend, tmp_path / "board")
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == doomed  # it did crash once
    assert (tally.done, tally.failed) == (4, 0), [r.error for r in results]
    records = {r.key: r for r in load_records(tmp_path / "board")}
    assert records.keys() == serial_metrics.keys()
    for key, metrics in serial_metrics.items():
        assert records[key].metrics == metrics, key


def test_worker_death_past_the_retries_is_a_failed_run(ray_address, first_seed_jobs,
                                                       tmp_path) -> None:
    doomed = first_seed_jobs[2]
    backend = RayBackend("cpu", workers=2, retries=0,
                         runner=ExitOnFirstAttempt(tmp_path, frozenset({doomed.key})))
    results, tally = run_jobs(first_seed_jobs, backend, tmp_path / "board")
    assert (tally.done, tally.failed) == (3, 1)
    [failed] = [r for r in results if r.record is None]
    assert failed.job == doomed
    assert failed.error.startswith("its worker died and --retries 0 were used up")
    saved = {r.key for r in load_records(tmp_path / "board")}
    assert saved == {j.key for j in first_seed_jobs} - {doomed.key}


def test_interrupted_run_resumes_with_only_the_rest(ray_address, first_seed_jobs, monkeypatch,
                                                    capsys, tmp_path) -> None:
    argv = ["run", str(TINY), "--seeds", "0", "--ray", ray_address, "--leaderboard",
            str(tmp_path)]
    show = ProgressBar.update

    def interrupt_at_first_result(self, tally, result=None):
        show(self, tally, result)
        if result is not None:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "update", interrupt_at_first_result)
    assert main(argv) == 130
    [kept] = (tmp_path / "records").glob("*.json")
    stamp = kept.stat().st_mtime_ns
    monkeypatch.setattr(ProgressBar, "update", show)
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    out = capsys.readouterr().out
    assert "0 runs raised an error, 1 runs skipped as already recorded" in out
    assert out.count(" seed 0: ") == 3  # the three runs left, each reported once
    assert kept.stat().st_mtime_ns == stamp
    assert {p.stem for p in (tmp_path / "records").glob("*.json")} == {
        j.key for j in first_seed_jobs}


def test_raising_run_is_listed_and_the_others_go_on(ray_address, first_seed_jobs, monkeypatch,
                                                    capsys, tmp_path) -> None:
    broken = first_seed_jobs[1]
    monkeypatch.setattr(bench.cluster, "RayBackend",
                        functools.partial(RayBackend, runner=RaiseFor(frozenset({broken.key}))))
    argv = ["run", str(TINY), "--seeds", "0", "--ray", ray_address, "--leaderboard",
            str(tmp_path)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"ERROR {broken.label}: RuntimeError: planted failure in {broken.label}" in out
    assert "1 runs raised an error" in out
    assert {p.stem for p in (tmp_path / "records").glob("*.json")} == {
        j.key for j in first_seed_jobs} - {broken.key}


def test_run_too_large_for_every_node_is_refused(ray_address, capsys, tmp_path) -> None:
    argv = ["run", str(TINY), "--ray", ray_address, "--cpus-per-run", "3", "--leaderboard",
            str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"no node of the Ray cluster at {ray_address} fits one run of --cpus-per-run 3" in err
    assert not (tmp_path / "records").exists()

"""One grid, five ways to run it, one set of records: pytest serially, pytest-xdist ``-n 2``,
``byzbench run``'s serial backend, ``-j 2`` worker processes and a local Ray of 2 workers give
the same keys and, on CPU, the same metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.grid import load_grids
from bench.results import RunRecord, load_records
from bench.schedule import Job, ProcessBackend, SerialBackend, run_jobs

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install byzbench[ray])")

TINY = Path(__file__).parent / "tiny_grid.yaml"


@pytest.fixture(scope="module")
def two_worker_ray() -> None:
    """A local Ray of 2 CPUs, started the way ``byzbench run --ray -j 2`` starts it."""
    from bench.cluster import start_local_ray

    start_local_ray(2)
    yield
    ray.shutdown()


def scheduled_board(backend, out: Path) -> dict[str, RunRecord]:
    """The tiny grid's records after :func:`run_jobs` on ``backend``, read back from disk."""
    jobs = [Job(case, seed) for case in load_grids([TINY]) for seed in case.seeds]
    results, tally = run_jobs(jobs, backend, out)
    assert (tally.done, tally.failed) == (8, 0), [r.error for r in results if r.error]
    return {r.key: r for r in load_records(out)}


def test_every_backend_writes_the_same_records(serial_board, parallel_run, two_worker_ray,
                                               tmp_path) -> None:
    from bench.cluster import RayBackend

    assert ray.cluster_resources()["CPU"] == 2
    reference = {r.key: r for r in load_records(serial_board)}
    boards = {
        "pytest -n 2": {r.key: r for r in load_records(parallel_run[1])},
        "serial backend": scheduled_board(SerialBackend("cpu"), tmp_path / "serial"),
        "-j 2": scheduled_board(ProcessBackend("cpu", 2), tmp_path / "processes"),
        "ray, 2 workers": scheduled_board(RayBackend("cpu", workers=2), tmp_path / "ray"),
    }
    assert len(reference) == 8  # 2 defenses x 2 attacks x 2 seeds
    for name, board in boards.items():
        assert board.keys() == reference.keys(), name
        for key, record in reference.items():
            other = board[key]
            assert (other.scenario, other.seeds, other.tier, other.config_hash) == (
                record.scenario, record.seeds, record.tier, record.config_hash), (name, key)
            assert other.metrics == record.metrics, (name, key)
            assert other.reference == record.reference, (name, key)

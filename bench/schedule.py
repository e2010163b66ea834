"""Running many (case, seed) jobs: in this process, in local worker processes, or elsewhere.

A :class:`Job` is one case at one training seed.  A backend (:class:`SerialBackend`,
:class:`ProcessBackend`, :class:`BatchedBackend`, or the Ray backend in :mod:`bench.cluster`) runs
jobs and yields each
:class:`JobResult` as it finishes; :func:`run_jobs` is the one scheduling path around any
backend: it skips jobs whose record already exists (``resume``), saves every finished record
at once (atomically), reports progress, and keeps going when a job fails, recording its message.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from bench.cases import record_reference
from bench.grid import Case
from bench.results import RunRecord, save_record
from bench.run import Seeds, run


@dataclass(frozen=True)
class Job:
    """One case at one training seed; ``key`` is the record key it will produce."""

    case: Case
    seed: int

    @property
    def key(self) -> str:
        return f"{self.case.scenario.config_hash()}-s{self.case.split_seed}-t{self.seed}"

    @property
    def label(self) -> str:
        return f"{self.case.id} seed {self.seed}"


@dataclass
class JobResult:
    """A finished job: its record, or the error that stopped it."""

    job: Job
    record: RunRecord | None = None
    error: str | None = None
    seconds: float = 0.0


def execute(job: Job, device: str, threads: int | None = None) -> JobResult:
    """Run ``job`` here; an exception becomes the result's error (the message's last line
    names the problem; the traceback is kept for the log)."""
    import torch

    import bench  # noqa: F401  (registers every component in a fresh worker)

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        record = run(job.case.scenario, Seeds(job.case.split_seed, job.seed), device,
                     job.case.tier)
        record.reference = record_reference(job.case)
        return JobResult(job, record, seconds=time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001  (one failing job must not stop the grid)
        detail = traceback.format_exc(limit=-3)
        return JobResult(job, error=f"{type(err).__name__}: {err}\n{detail}",
                         seconds=time.perf_counter() - start)


class SerialBackend:
    """Runs jobs one after another in this process."""

    name = "serial"
    workers = 1

    def __init__(self, device: str, threads: int | None = None) -> None:
        self.device, self.threads = device, threads

    def results(self, jobs: list[Job], started: Callable[[Job], None]) -> Iterator[JobResult]:
        for job in jobs:
            started(job)
            yield execute(job, self.device, self.threads)


class ProcessBackend:
    """Runs jobs in ``workers`` local processes, one torch thread each (measured fastest for
    the small models of the CPU tiers: two threads per process on two cores thrash)."""

    name = "processes"

    def __init__(self, device: str, workers: int, threads: int | None = 1) -> None:
        self.device, self.workers, self.threads = device, workers, threads or 1

    def results(self, jobs: list[Job], started: Callable[[Job], None]) -> Iterator[JobResult]:
        context = get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        try:
            yield from self._results(pool, jobs, started)
        except BaseException:
            # interrupted (Ctrl-C, SIGTERM): stop the workers too, or they run on as orphans
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _results(self, pool: ProcessPoolExecutor, jobs: list[Job],
                 started: Callable[[Job], None]) -> Iterator[JobResult]:
        pending: dict[Future, Job] = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < self.workers:
                job = queue.pop(0)
                started(job)
                pending[pool.submit(execute, job, self.device, self.threads)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except Exception as err:  # noqa: BLE001  (a worker died)
                    yield JobResult(job, error=f"worker failed: {type(err).__name__}: {err}")


class BatchedBackend:
    """Runs jobs in this process, FedSGD jobs that share dataset, model, batch size, client
    count, engine and epochs in lockstep batches of up to ``size`` runs
    (:func:`bench.fl.batch.run_together`: one client-gradient call for the whole batch, records
    equal to running each alone); every other job runs alone.  A batch that raises is rerun job
    by job, so the failing job's error is its own."""

    name = "batched"
    workers = 1

    def __init__(self, device: str, size: int, threads: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"batch size must be >= 1, got {size}")
        self.device, self.size, self.threads = device, size, threads

    def results(self, jobs: list[Job], started: Callable[[Job], None]) -> Iterator[JobResult]:
        import torch

        from bench.fl.batch import run_together

        if self.threads:
            torch.set_num_threads(self.threads)
        for batch in lockstep_batches(jobs, self.size):
            for job in batch:
                started(job)
            if len(batch) == 1:
                yield execute(batch[0], self.device, self.threads)
                continue
            start = time.perf_counter()
            try:
                records = run_together(
                    [(j.case.scenario, Seeds(j.case.split_seed, j.seed)) for j in batch],
                    self.device, batch[0].case.tier)
            except Exception:  # noqa: BLE001  (rerun alone: each job reports its own error)
                for job in batch:
                    yield execute(job, self.device, self.threads)
                continue
            share = (time.perf_counter() - start) / len(batch)
            for job, record in zip(batch, records, strict=True):
                record.reference = record_reference(job.case)
                yield JobResult(job, record, seconds=share)


def lockstep_batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """``jobs`` grouped by :func:`bench.fl.batch.lockstep_key` (and tier) into batches of at
    most ``size``, in order of first appearance; a job without a key is a batch of one."""
    from bench.fl.batch import lockstep_key

    groups: dict[object, list[Job]] = {}
    for index, job in enumerate(jobs):
        key = lockstep_key(job.case.scenario)
        groups.setdefault(index if key is None else (key, job.case.tier), []).append(job)
    return [group[i : i + size] for group in groups.values()
            for i in range(0, len(group), size)]


@dataclass
class Tally:
    """Counts and times of a scheduled run, for progress and the final summary."""

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    start: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self) -> float | None:
        finished = self.done + self.failed
        left = self.total - self.skipped - finished
        if finished == 0:
            return None
        return self.elapsed / finished * left


def run_jobs(jobs: Iterable[Job], backend, out: Path | None,
             existing: set[str] | None = None,
             on_result: Callable[[JobResult, Tally], None] | None = None,
             on_start: Callable[[Job, Tally], None] | None = None) -> tuple[list[JobResult], Tally]:
    """Run ``jobs`` on ``backend``, saving each record under ``out`` as it arrives.

    Jobs whose key is in ``existing`` are skipped (``--resume``).  Returns every result (failed
    ones carry their error) and the final tally.
    """
    jobs = list(jobs)
    todo = [j for j in jobs if existing is None or j.key not in existing]
    tally = Tally(total=len(jobs), skipped=len(jobs) - len(todo))
    results = []

    def started(job: Job) -> None:
        tally.running += 1
        if on_start is not None:
            on_start(job, tally)

    for result in backend.results(todo, started):
        tally.running -= 1
        if result.record is not None:
            if out is not None:
                _save(result, out, tally)
            tally.done += 1
        else:
            tally.failed += 1
        results.append(result)
        if on_result is not None:
            on_result(result, tally)
    return results, tally


class RecordSaveError(RuntimeError):
    """A finished run's record could not be written (full disk, folder made read-only); the
    message names the run, the folder and the system's reason."""


def _save(result: JobResult, out: Path, tally: Tally) -> None:
    """Save ``result``'s record, or stop the schedule with a :class:`RecordSaveError`: running
    on would spend compute on results that cannot be kept."""
    try:
        save_record(result.record, out)
    except OSError as err:
        raise RecordSaveError(
            f"cannot save the record of {result.job.label} under {Path(out) / 'records'}: "
            f"{err.strerror or err}; the {tally.done} record(s) saved before it are intact "
            "(fix the folder, then rerun with --resume)") from err


def existing_keys(out: Path) -> set[str]:
    """Keys of the valid records already under ``out/records``; an unreadable or invalid file
    does not count (its job runs again and replaces it)."""
    from bench.results import RecordError, read_record_file

    folder = Path(out) / "records"
    keys: set[str] = set()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            keys |= {r.key for r in read_record_file(path)}
        except (RecordError, OSError):
            continue
    return keys


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)

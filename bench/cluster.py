"""Running a grid's jobs on a Ray cluster: the backend of ``byzbench run --ray [ADDRESS]``.

:class:`RayBackend` has the interface of the local backends in :mod:`bench.schedule`
(``results(jobs, started)`` yields each :class:`~bench.schedule.JobResult` as it finishes), so
:func:`bench.schedule.run_jobs` keeps doing what it does for ``-j N``: resume, atomic record
saving as results arrive, progress, failures recorded.  Each job is one Ray task declaring
``num_cpus`` and ``num_gpus`` (fractional GPUs share a device); results come back with
``ray.wait`` in the order they finish, and records are written by the driver only, so a worker
that dies cannot lose or half-write a finished record.  Ray retries a task whose worker died
(``max_retries``); an exception inside a run is not retried, it becomes the job's error.

Ray is optional (``pip install byzbench[ray]``) and imported only here, when a run starts.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Callable, Iterator
from typing import Any

import torch._dynamo  # noqa: F401  (imported whole before Ray runs tasks; see run_with)

from bench.schedule import Job, JobResult, execute

INSTALL_HINT = "pip install byzbench[ray]"


class ClusterError(ValueError):
    """The cluster cannot run the jobs as asked (missing Ray, unreachable head, too few
    resources); the message says what to change."""


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ClusterError` naming the install command."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--ray needs the optional dependency Ray: {INSTALL_HINT}") from None
    return ray


def ray_device(choice: str, gpus_per_run: float) -> str:
    """The torch device of a Ray task.  Ray hands a task a GPU only when it declares one, so
    ``auto`` means CUDA exactly when ``gpus_per_run > 0`` (the driver's own devices do not
    matter: it may be a laptop in front of a GPU cluster)."""
    if choice == "auto":
        return "cuda" if gpus_per_run > 0 else "cpu"
    if choice == "cuda" and gpus_per_run <= 0:
        raise ClusterError("--device cuda with --ray needs --gpus-per-run > 0: Ray gives a task "
                           "a GPU only when it declares one")
    if choice == "cpu" and gpus_per_run > 0:
        raise ClusterError(f"--gpus-per-run {gpus_per_run:g} with --device cpu would hold GPUs "
                           "that no run uses")
    return choice


def head_endpoint(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``host:port`` or ``ray://host:port`` address; ``None`` for
    ``auto`` (Ray finds the cluster itself); a :class:`ClusterError` for anything else."""
    if address == "auto":
        return None
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ClusterError(f"--ray {address}: not a Ray address; expected host:port, "
                           "ray://host:port or auto (put grid names before --ray)")
    return host, int(port)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on an address nothing listens on: Ray itself keeps retrying such an address
    for minutes."""
    endpoint = head_endpoint(address)
    if endpoint is None:
        return
    try:
        socket.create_connection(endpoint, timeout=timeout).close()
    except OSError as err:
        raise ClusterError(f"--ray {address}: the Ray head is unreachable ({err}); start one "
                           "with `ray start --head` or check the address") from None


def start_local_ray(num_cpus: float) -> None:
    """Start a new Ray instance on this machine for one run: ``num_cpus`` CPUs, GPUs as
    detected, no dashboard (``address="local"``: never join a cluster that ``ray start`` left
    running here)."""
    ray = import_ray()
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING)


def run_slots(nodes: list[dict[str, Any]], cpus_per_run: float, gpus_per_run: float) -> int:
    """How many runs the alive ``nodes`` (``ray.nodes()`` entries) hold at once: per node,
    ``min(floor(CPU / cpus_per_run), floor(GPU / gpus_per_run))`` (GPU term only when runs
    ask for GPUs), summed over nodes, since a task never spans two nodes."""
    total = 0
    for node in nodes:
        if not node.get("Alive", False):
            continue
        resources = node.get("Resources", {})
        slots = math.floor(resources.get("CPU", 0.0) / cpus_per_run + 1e-9)
        if gpus_per_run > 0:
            slots = min(slots, math.floor(resources.get("GPU", 0.0) / gpus_per_run + 1e-9))
        total += slots
    return total


def check_resources(nodes: list[dict[str, Any]], cpus_per_run: float, gpus_per_run: float,
                    where: str) -> int:
    """:func:`run_slots`, or a :class:`ClusterError` saying why no node can take one run."""
    slots = run_slots(nodes, cpus_per_run, gpus_per_run)
    if slots > 0:
        return slots
    alive = [n.get("Resources", {}) for n in nodes if n.get("Alive", False)]
    gpus = sum(r.get("GPU", 0.0) for r in alive)
    if gpus_per_run > 0 and gpus == 0:
        raise ClusterError(f"--gpus-per-run {gpus_per_run:g}: the Ray cluster {where} has no "
                           "GPU; run without --gpus-per-run or add GPU workers")
    largest = max((r.get("CPU", 0.0) for r in alive), default=0.0)
    largest_gpu = max((r.get("GPU", 0.0) for r in alive), default=0.0)
    raise ClusterError(f"no node of the Ray cluster {where} fits one run of "
                       f"--cpus-per-run {cpus_per_run:g} --gpus-per-run {gpus_per_run:g} "
                       f"(largest node: {largest:g} CPUs, {largest_gpu:g} GPUs)")


def run_with(runner: Callable[[Job, str, int | None], JobResult], job: Job, device: str,
             threads: int | None) -> JobResult:
    """The body of every Ray task: ``runner(job, device, threads)`` in a worker.

    A worker imports this module (under its import lock) before it runs a task, so
    ``torch._dynamo``, imported above, is complete before any task touches ``torch.func``; in
    CI two tasks of one worker otherwise raced on its lazy import ("partially initialized
    module 'torch._dynamo' has no attribute 'decorators'")."""
    return runner(job, device, threads)


class RayBackend:
    """Runs each job as a Ray task on the cluster at ``address`` (``None``: a local Ray of
    ``workers * cpus_per_run`` CPUs started for the run and stopped after it; a process
    already connected to Ray keeps and reuses its connection).

    At most ``workers`` tasks (default: as many as the cluster's resources hold) are in flight,
    so ``started`` is called when a run can actually start; ``retries`` is Ray's
    ``max_retries`` for a task whose worker process died; ``runner`` is the function a worker
    calls (:func:`bench.schedule.execute` or anything picklable with its signature).
    """

    name = "ray"

    def __init__(self, device: str, address: str | None = None, workers: int | None = None,
                 cpus_per_run: float = 1.0, gpus_per_run: float = 0.0,
                 retries: int = 2, threads: int | None = None,
                 runner: Callable[[Job, str, int | None], JobResult] = execute) -> None:
        if not cpus_per_run > 0:
            raise ClusterError(f"--cpus-per-run must be > 0, got {cpus_per_run}")
        if not gpus_per_run >= 0:
            raise ClusterError(f"--gpus-per-run must be >= 0, got {gpus_per_run}")
        if retries < 0:
            raise ClusterError(f"--retries must be >= 0, got {retries}")
        if workers is not None and workers < 1:
            raise ClusterError(f"workers must be >= 1, got {workers}")
        if address is not None:
            head_endpoint(address)
        self.device, self.address, self.workers = device, address, workers
        self.cpus_per_run, self.gpus_per_run, self.retries = cpus_per_run, gpus_per_run, retries
        self.threads = threads or max(1, math.floor(cpus_per_run))
        self.runner = runner

    @property
    def where(self) -> str:
        return f"at {self.address}" if self.address else "started on this machine"

    def _connect(self, ray: Any) -> bool:
        """Connect (or start a local Ray); True when this call did, so it must disconnect."""
        if self.address is not None:
            check_reachable(self.address)
        if ray.is_initialized():
            return False
        if self.address is None:
            start_local_ray((self.workers or 1) * self.cpus_per_run)
            return True
        try:
            ray.init(address=self.address, log_to_driver=False)
        except ConnectionError as err:
            raise ClusterError(f"--ray {self.address}: {err}") from None
        return True

    def _slots(self, ray: Any) -> int:
        slots = check_resources(ray.nodes(), self.cpus_per_run, self.gpus_per_run, self.where)
        return min(slots, self.workers) if self.workers else slots

    def results(self, jobs: list[Job], started: Callable[[Job], None]) -> Iterator[JobResult]:
        ray = import_ray()
        owned = self._connect(ray)
        pending: dict[Any, Job] = {}
        try:
            slots = self._slots(ray)
            task = ray.remote(run_with).options(
                num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                max_retries=self.retries, retry_exceptions=False)
            queue = list(jobs)
            while queue or pending:
                while queue and len(pending) < slots:
                    job = queue.pop(0)
                    started(job)
                    pending[task.remote(self.runner, job, self.device, self.threads)] = job
                [ref], _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ref)
                yield self._collect(ray, ref, job)
                if queue:
                    slots = max(1, self._slots(ray))  # nodes may have joined or left
        finally:
            for ref in pending:
                ray.cancel(ref)
            if owned:
                ray.shutdown()

    def _collect(self, ray: Any, ref: Any, job: Job) -> JobResult:
        """The task's result; a task whose worker died ``retries + 1`` times, that raised
        outside the run, or that Ray could not run becomes the job's error."""
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = err.cause if err.cause is not None else err
            return JobResult(job, error=f"{type(cause).__name__}: {cause}")
        except ray.exceptions.RayError as err:
            what = f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
            died = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                    ray.exceptions.OutOfMemoryError, ray.exceptions.LocalRayletDiedError)
            if isinstance(err, died):
                what = f"its worker died and --retries {self.retries} were used up: {what}"
            return JobResult(job, error=what)

"""Several FedSGD runs of one model, dataset, batch size and client count, played in lockstep.

On a GPU one small-model run leaves most of the device idle (issue 15, item 4).  A
:class:`Lockstep` holds ``R`` :class:`~bench.fl.fedsgd.FedSGD` runs and advances them one round
at a time together.  The only shared work is the client-gradient step: every run's client
gradients come from ONE call, a ``vmap`` over the run axis (each run at its own parameters) of
the shared-model client ``vmap`` of seed 003's Algorithm 1 step 1,

    G[r, i] = grad_theta loss(theta_r; x[r, i], y[r, i])   for runs r and active clients i.

Everything else -- sampler, label and gradient poisoning, worker momentum, the attack, the
defense, the server step and evaluation -- is the run's own code, run by the run.  Each run
also keeps its own copy of the process-global random state (Python, numpy, torch), swapped in
around its own work, so a component that draws from a global generator sees the same stream as
when the run plays alone.

Exactness.  The fused call is used only where it reproduces the runs' own engine bit for bit:
on the first round of each shape (runs, clients) of a fused call, the gradients are computed
both ways and compared with ``torch.equal``; where any bit differs, that shape keeps each run's
own engine (still in lockstep, without the fused speed-up).  Kernel choice depends on shapes,
which do not change between rounds.  Measured on CPU (float32, one thread): the MLP's fused
gradients equal the single-run ones exactly; the convolution models' differ by ~1e-8-1e-7
(CNN) and up to ~7e-4 absolute (ResNet-20, whose BatchNorm batch statistics amplify it), because a
convolution with per-run weights runs as one grouped convolution.  Runs with the
``sequential`` engine (convolutions on a CPU) are never fused.  So a lockstep run's record
equals the run played alone in every metric, curve and counter; only times differ.

Speed on the shared 2-core CPU, one thread, process CPU time: 16 digits-MLP runs (n = 25,
B = 16, CC) ran 1.25-1.76x faster than one after another; convolution models gain nothing
(0.9-1.2x, ``benchmarks/concurrent_runs.py``).  Two worker processes gain ~2x on two cores, so
lockstep batches are off unless asked for (``byzbench run --batch R``); they are meant for GPUs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor
from torch.func import grad, vmap

from bench.fl.engines import GradientEngine, VmapEngine
from bench.fl.fedsgd import FedSGD
from bench.fl.simulation import RoundLoop, synchronize
from bench.run import Outcome, Progress, Seeds, make_record, seed_everything
from bench.scenario import Scenario

if TYPE_CHECKING:
    from bench.results import RunRecord

#: Scenario fields (core or settings) that every run of one lockstep batch must share.
SHARED_FIELDS = ("protocol", "dataset", "model", "batch_size", "n", "engine")


def lockstep_key(scenario: Scenario) -> tuple | None:
    """What runs must share to be played in one :class:`Lockstep` (plus ``epochs``, so that a
    batch ends together), or ``None`` for a protocol other than ``fedsgd``."""
    if scenario.protocol != "fedsgd":
        return None
    sc = scenario.settings
    return (scenario.dataset.label, scenario.model.label, sc.batch_size, sc.n, sc.engine,
            sc.epochs)


class GlobalRandomState:
    """One run's copy of Python's, numpy's and torch's global generator states: entering
    restores it, leaving saves it."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.save()

    def save(self) -> None:
        self.python = random.getstate()
        self.numpy = np.random.get_state()
        self.torch = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None

    def restore(self) -> None:
        random.setstate(self.python)
        np.random.set_state(self.numpy)
        torch.set_rng_state(self.torch)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)

    def __enter__(self) -> GlobalRandomState:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.save()


class RunAxisGradients:
    """``gradients(params[R, ...], x[R, m, B, ...], y[R, m, B]) -> Tensor[R, m, d]``: each
    run's clients' gradients at that run's parameters, in one nested ``vmap`` call."""

    def __init__(self, engine: GradientEngine) -> None:
        clients = vmap(grad(engine.loss), in_dims=(None, 0, 0))
        self._runs = vmap(clients, in_dims=(0, 0, 0))

    def __call__(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        runs, clients = x.shape[:2]
        grads = self._runs(params, x, y)
        return torch.cat([g.reshape(runs, clients, -1) for g in grads.values()], dim=2)


class LockstepError(ValueError):
    """Runs that cannot share a lockstep batch; names the field in which they differ."""


class Lockstep:
    """``R`` FedSGD runs (scenario and seeds each) on ``device``, played together by
    :meth:`play`; see the module docstring.  ``require_exact=False`` uses the fused call
    without comparing it to the runs' own engines (equal to float round-off only: for
    measuring its speed, never for records)."""

    def __init__(self, jobs: Sequence[tuple[Scenario, Seeds]], device: str = "cpu",
                 progress: Sequence[Callable[[Progress], None] | None] | None = None,
                 require_exact: bool = True) -> None:
        if not jobs:
            raise LockstepError("a lockstep batch needs at least one run")
        first = jobs[0][0]
        for scenario, _ in jobs:
            for name in SHARED_FIELDS:
                mine, theirs = field_value(scenario, name), field_value(first, name)
                if mine != theirs:
                    raise LockstepError(f"runs of one lockstep batch must share {name}: "
                                        f"{theirs!r} and {mine!r}")
        self.device = torch.device(device)
        reports = list(progress) if progress is not None else [None] * len(jobs)
        if len(reports) != len(jobs):
            raise LockstepError(f"{len(reports)} progress callbacks for {len(jobs)} runs")
        self.runs: list[FedSGD] = []
        self.states: list[GlobalRandomState] = []
        for scenario, seeds in jobs:
            seed_everything(seeds.train)  # as bench.run.run does before a run alone
            self.runs.append(FedSGD(scenario, seeds, str(self.device)))
            self.states.append(GlobalRandomState(self.device))
        self.loops = [RoundLoop(run, report)
                      for run, report in zip(self.runs, reports, strict=True)]
        engine = self.runs[0].engine
        self.fused = RunAxisGradients(engine) if isinstance(engine, VmapEngine) else None
        #: per (runs, clients) shape of a fused call: whether it reproduced the runs' own
        #: engines exactly on its first round (a run that ends early changes the shape)
        self.exact: dict[tuple[int, int], bool] = {}
        self.require_exact = require_exact

    def play(self) -> list[Outcome]:
        """Play every run to its end; one outcome per run, in order."""
        while not all(loop.done for loop in self.loops):
            self.round()
        return [loop.outcome() for loop in self.loops]

    def round(self) -> None:
        """One round of every run still playing."""
        playing = [i for i, loop in enumerate(self.loops) if not loop.done]
        lrs: dict[int, float] = {}
        batches: dict[int, tuple[Tensor, Tensor]] = {}
        seconds: dict[int, float] = {}
        for i in playing:
            with self.states[i]:
                lrs[i] = self.runs[i].start_round()
                tick = time.perf_counter()
                batches[i] = self.runs[i].client_batches()
                seconds[i] = time.perf_counter() - tick
        grads = self.gradients(batches, seconds)
        for i in playing:
            run = self.runs[i]
            with self.states[i]:
                tick = time.perf_counter()
                rows = run.absorb(grads[i])
                seconds[i] += time.perf_counter() - tick
                self.loops[i].observe(run.conclude(rows, lrs[i], seconds[i]))

    def gradients(self, batches: dict[int, tuple[Tensor, Tensor]],
                  seconds: dict[int, float]) -> dict[int, Tensor]:
        """Each run's client gradients at its own model; the fused call's time is shared
        equally among its runs (added to ``seconds``)."""
        by_count: dict[int, list[int]] = {}
        for i, (x, _) in batches.items():
            by_count.setdefault(x.shape[0], []).append(i)
        out: dict[int, Tensor] = {}
        for count, group in by_count.items():
            tick = time.perf_counter()
            shape = (len(group), count)
            if self.fused is not None and self.exact.get(shape, True):
                fused = self.fused_gradients(group, batches)
                if shape not in self.exact and self.require_exact:
                    own = self.own_gradients(group, batches)
                    self.exact[shape] = all(torch.equal(fused[i], own[i]) for i in group)
                    fused = own
                out.update(fused)
            else:
                out.update(self.own_gradients(group, batches))
            synchronize(self.device)
            share = (time.perf_counter() - tick) / len(group)
            for i in group:
                seconds[i] += share
        return out

    def fused_gradients(self, group: list[int], batches: dict[int, tuple[Tensor, Tensor]]
                        ) -> dict[int, Tensor]:
        assert self.fused is not None
        theta = torch.stack([self.runs[i].theta for i in group])
        x = torch.stack([batches[i][0] for i in group])
        y = torch.stack([batches[i][1] for i in group])
        grads = self.fused(self.runs[group[0]].params(theta), x, y)
        return {i: grads[k] for k, i in enumerate(group)}

    def own_gradients(self, group: list[int], batches: dict[int, tuple[Tensor, Tensor]]
                      ) -> dict[int, Tensor]:
        return {i: self.runs[i].engine(self.runs[i].params(), *batches[i]) for i in group}


def field_value(scenario: Scenario, name: str) -> object:
    """A core scenario field's label, or a settings field's value."""
    if name == "protocol":
        return scenario.protocol
    if name in ("dataset", "model"):
        return getattr(scenario, name).label
    return getattr(scenario.settings, name)


def run_together(jobs: Sequence[tuple[Scenario, Seeds]], device: str = "cpu",
                 tier: str = "smoke") -> list[RunRecord]:
    """The records of ``jobs`` played as one :class:`Lockstep`, as :func:`bench.run.run` would
    make them one by one; each record's wall time is the batch's divided by its runs."""
    start = time.perf_counter()
    outcomes = Lockstep(jobs, device).play()
    wall = (time.perf_counter() - start) / len(jobs)
    return [make_record(scenario, seeds, torch.device(device), tier, outcome, wall)
            for (scenario, seeds), outcome in zip(jobs, outcomes, strict=True)]

"""Runs played in lockstep against the same runs played alone: equal records, bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from bench.fl import federated_scenario
from bench.fl.batch import GlobalRandomState, Lockstep, LockstepError, RunAxisGradients
from bench.grid import Case
from bench.run import Seeds, run
from bench.scenario import Component, Defense
from bench.schedule import BatchedBackend, Job, SerialBackend, lockstep_batches

pytestmark = pytest.mark.uses("fedsgd")


def scenario(defense: Defense, attack: str, **overrides):
    base = dict(dataset=Component("digits"), model=Component("mlp"), split=Component("iid"),
                n=10, f=2, batch_size=16, epochs=2, lr=0.1, lr_milestones=(1,), max_train=800)
    base.update(overrides)
    return federated_scenario(defense=defense, attack=Component(attack), **base)


#: three runs with different seeds, defenses and attacks (ALIE forges its rows, the other two
#: compute all 10 clients' gradients, so the batch has two client counts); the third is shorter
JOBS = [
    (scenario(Defense(Component("cc", {"tau": 1.0})), "alie"), Seeds(0, 1)),
    (scenario(Defense(Component("tm")), "labelflip"), Seeds(1, 2)),
    (scenario(Defense(Component("mean"), (Component("bucketing", {"s": 2}),)), "none",
              epochs=1), Seeds(0, 3)),
]


def comparable(record) -> dict:
    """A record without what legitimately differs between two executions (times)."""
    out = record.to_dict()
    out.pop("timing")
    out.pop("environment")
    out.pop("created")
    return out


def test_lockstep_records_equal_runs_played_alone() -> None:
    from bench.fl.batch import run_together

    alone = [run(sc, seeds) for sc, seeds in JOBS]
    together = run_together(JOBS)
    for one, other in zip(alone, together, strict=True):
        assert comparable(one) == comparable(other)
        assert one.timing.counters == other.timing.counters
        assert set(one.timing.phases) == set(other.timing.phases)
        assert set(one.to_dict()) == set(other.to_dict())


def test_fused_gradient_call_reproduces_each_run_exactly_for_a_perceptron() -> None:
    batch = Lockstep(JOBS)
    batch.play()
    # digits' MLP on CPU: the fused call equals each run's own engine bit for bit for every
    # shape it took: one run of 8 honest clients (ALIE forges its rows), two of 10 (label
    # flippers and the no-attack run's f clients compute gradients too), then one of 10 once
    # the one-epoch run has ended
    assert batch.exact == {(1, 8): True, (2, 10): True, (1, 10): True}


class PerturbedGradients(RunAxisGradients):
    """The fused call with one bit of noise: stands in for a kernel whose round-off differs."""

    def __call__(self, params, x, y):
        grads = super().__call__(params, x, y)
        return grads + torch.finfo(grads.dtype).eps * grads.abs().amax()


def test_a_fused_call_that_differs_in_any_bit_is_replaced_by_each_runs_own_engine() -> None:
    alone = [run(sc, seeds) for sc, seeds in JOBS[:2]]
    batch = Lockstep(JOBS[:2])
    batch.fused = PerturbedGradients(batch.runs[0].engine)
    outcomes = batch.play()
    assert batch.exact == {(1, 8): False, (1, 10): False}
    for record, outcome in zip(alone, outcomes, strict=True):
        assert record.metrics.curves == outcome.curves
        assert record.metrics.values == outcome.metrics


@pytest.mark.parametrize("field, change", [
    ("n", {"n": 12}), ("batch_size", {"batch_size": 8}), ("engine", {"engine": "sequential"}),
])
def test_runs_that_differ_in_a_shared_field_are_refused(field: str, change: dict) -> None:
    other = scenario(Defense(Component("mean")), "none", **change)
    with pytest.raises(LockstepError, match=field):
        Lockstep([JOBS[0], (other, Seeds(0, 0))])


def test_each_run_keeps_its_own_global_random_stream() -> None:
    def draws() -> tuple:
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    first = GlobalRandomState(torch.device("cpu"))
    torch.manual_seed(2), np.random.seed(2), random.seed(2)
    second = GlobalRandomState(torch.device("cpu"))
    interleaved = {1: [], 2: []}
    for _ in range(3):
        for key, state in ((1, first), (2, second)):
            with state:
                interleaved[key].append(draws())
    for seed in (1, 2):
        torch.manual_seed(seed), np.random.seed(seed), random.seed(seed)
        assert interleaved[seed] == [draws() for _ in range(3)]


def cases() -> list[Case]:
    return [Case(sc, seeds=(seeds.train,), split_seed=seeds.split, tier="smoke", floor=0.0)
            for sc, seeds in JOBS]


def test_batched_backend_groups_only_runs_of_equal_length() -> None:
    jobs = [Job(case, case.seeds[0]) for case in cases()]
    # the third run is one epoch long, the others two: it gets its own batch
    assert lockstep_batches(jobs, 4) == [jobs[:2], jobs[2:]]
    assert lockstep_batches(jobs, 1) == [[jobs[0]], [jobs[1]], [jobs[2]]]


def test_batched_backend_records_equal_the_serial_backends() -> None:
    jobs = [Job(case, seed) for case in cases()[:2] for seed in (1, 4)]
    serial = list(SerialBackend("cpu").results(jobs, lambda job: None))
    batched = list(BatchedBackend("cpu", 3).results(jobs, lambda job: None))
    assert [r.job.key for r in serial] == [r.job.key for r in batched]
    for one, other in zip(serial, batched, strict=True):
        assert one.error is None and other.error is None
        assert one.record.key == other.record.key
        assert comparable(one.record) == comparable(other.record)

"""Attack efficacy on the smoke task: each attack must cost real test points, on every seed.

Catches attacks that silently do nothing (Blades' ALIE was a no-op for years).  Task: digits,
MLP, IID split, ``n = 25`` clients of which ``f = 10`` Byzantine, batch 16, worker momentum
``beta = 0.9``, ``lr = 0.1`` without decay, 10 epochs (36 rounds; 0.1-0.5 s a run on CPU).
For each attack and the rule it targets we train with training seeds 0, 1, 2 (split seed 0) and
require ``no-attack score - attacked score >= min_drop`` (in points) for every seed, paired on the
seed.

How the thresholds were set: a sweep of every attack against mean, tm, cc (tau 1 and 0.1) and
an internal Krum at this configuration, 3 seeds (script kept out of the repo; table in the
report of the helper who wrote this).
``min_drop`` is about half of the smallest drop measured over the seeds (given in the comment) and
never below 5 points: harmless attacks moved paired scores by up to +-4 points on this task.

Not here, because they do not hurt this task in any configuration tried (beta in {0, 0.9, 0.99},
f in {5, 10}, 10 or 30 epochs): ``alie`` (any z up to 2), ``alie-alt``, and ``minmax`` /
``minsum`` with their default "std" direction -- a small bias along -sigma is harmless to this
nearly convex problem; their matrix-level effect is checked in ``test_zoo.py``.  The same holds
for their partial-knowledge twins ``alie-own`` and ``minmax-own`` / ``minsum-own`` with "std"
(measured drops -7.8 to +0.6 points against mean, tm and cc).  ``rop-s`` needs
the simulator's sparse mask (``bench.models.masks``) and its measured drop (4.5-11 points with a
stand-in mask) is too close to the noise floor.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.attacks.fang import krum_scores
from bench.fl import federated_scenario
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

SEEDS = (0, 1, 2)
SETTING = dict(n=25, f=10, batch_size=16, epochs=10, beta=0.9, lr=0.1, lr_milestones=())


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Single-threaded runs: these tiny models lose 10x to thread oversubscription on a busy
    machine (measured: 7 s vs 0.3 s a run); the previous setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class SmallestScore(Aggregator):
    """Krum (Blanchard et al., NeurIPS 2017) on the finite rows, for Fang's selection target.

    No Krum is registered on this branch; the case id says ``select`` so that it names none.
    """

    name = "select"

    def aggregate(self, updates: Tensor) -> Tensor:
        finite = updates[torch.isfinite(updates).all(dim=1)]
        return finite[krum_scores(finite, self.f).argmin()]


SELECT = Component("select")  # not a registered name: the internal Krum above


def scenario(attack: Component, rule: Component) -> Scenario:
    # For SELECT the live rule replaces the placeholder defense in `final_score`.
    defense = Component("mean") if rule == SELECT else rule
    return federated_scenario(
        dataset=Component("digits"), model=Component("mlp"), split=Component("iid"),
        defense=Defense(defense), attack=attack, **SETTING,
    )


@functools.cache
def final_score(attack: Component, rule: Component, seed: int) -> float:
    live = SmallestScore(f=SETTING["f"]) if rule == SELECT else None
    record = run(scenario(attack, rule), Seeds(split=0, train=seed), aggregator=live)
    return 100.0 * record.metrics.values["final_accuracy"]


def param(attack: Component, rule: Component, *values: float):
    case = scenario(attack, rule)
    label, uses = case.label, case.components
    if rule == SELECT:
        label = label.replace("-mean-", "-select-")
        uses = tuple(n for n in uses if n != "mean")
    return pytest.param(attack, rule, *values, id=label, marks=pytest.mark.uses(*uses))


MEAN, TM, CC = Component("mean"), Component("tm"), Component("cc", {"tau": 0.1})
# (attack, targeted rule, min_drop in points); comment: measured drops over seeds 0-2.
DAMAGE = [
    (Component("bitflip"), MEAN, 20.0),  # 42.4-48.4
    (Component("labelflip"), MEAN, 9.0),  # 19.0-22.6
    (Component("signflip"), MEAN, 20.0),  # 41.2-45.4
    (Component("gaussian"), MEAN, 6.0),  # 13.1-21.1
    (Component("ipm"), TM, 6.0),  # 13.1-24.2
    (Component("ipm-opt"), CC, 20.0),  # 46.2-55.7
    (Component("alie-opt"), MEAN, 30.0),  # 67.1-71.0 (tuned against tm or cc: no damage)
    (Component("fang"), TM, 10.0),  # 24.0-41.2
    (Component("fang", {"target": "selection"}), SELECT, 30.0),  # 63.8-70.5
    (Component("rop"), CC, 6.0),  # 11.7-21.4
    (Component("mimic"), MEAN, 5.0),  # 11.7-17.3
    (Component("minmax", {"perturbation": "unit"}), TM, 5.0),  # 11.7-20.3
    (Component("minsum", {"perturbation": "unit"}), TM, 5.0),  # 11.5-22.5
    (Component("nan"), MEAN, 30.0),  # diverges: chance (10 %), 63-68
    (Component("inf"), MEAN, 30.0),  # diverges: chance (10 %), 63-68
    (Component("ipm-own"), CC, 20.0),  # 40.1-47.6
    (Component("signflip-own"), MEAN, 20.0),  # 42.3-48.5
    (Component("minmax-own", {"perturbation": "unit"}), CC, 20.0),  # 41.8-51.5
    (Component("minsum-own", {"perturbation": "unit"}), CC, 19.0),  # 39.8-44.3
    (Component("fang-own"), TM, 14.0),  # 28.4-36.8
    (Component("rop-own"), CC, 6.0),  # 12.3-23.4
]
BASELINE = Component("none")


@pytest.mark.parametrize(
    ("attack", "rule", "floor"),
    [param(BASELINE, r, f) for r, f in [(MEAN, 60), (TM, 60), (CC, 60), (SELECT, 55)]],
)
def test_clean_training_reaches_floor(attack: Component, rule: Component, floor: float) -> None:
    # Measured no-attack scores over the seeds: mean 73.0-78.0, tm 71.0-76.6, cc 71.0-77.7,
    # Krum 64.1-71.0.
    assert min(final_score(attack, rule, s) for s in SEEDS) >= floor


@pytest.mark.parametrize(("attack", "rule", "min_drop"), [param(*c) for c in DAMAGE])
def test_costs_points_on_every_seed(attack: Component, rule: Component, min_drop: float) -> None:
    drops = [final_score(BASELINE, rule, s) - final_score(attack, rule, s) for s in SEEDS]
    assert min(drops) >= min_drop, f"drops per seed {drops}, need >= {min_drop}"

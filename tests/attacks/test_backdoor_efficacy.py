"""Backdoor efficacy on the smoke task: each backdoor must implant its trigger, on every seed.

Task: digits, MLP, IID split, ``n = 25`` clients of which ``f = 5`` Byzantine, batch 16, worker
momentum ``beta = 0.9``, ``lr = 0.1`` without decay, 10 epochs (0.2-0.7 s a run on one CPU
thread).  For training seeds 0, 1, 2 (split seed 0) each backdoor's attack success rate (ASR,
%) under the rule it targets must exceed the same backdoor's ASR with ``f = 0`` (the clean
model's response to the trigger) by ``min_lift`` points, paired on the seed.  ``min_lift`` is
about half of the smallest lift measured (in the comment: attacked ASR; clean-model ASR).

``alie-backdoor`` with its default ``z_max(25, 5) = 0.25`` implants nothing here (ASR 0.3 %
against mean, 0.3-6.9 % against Krum): honest momenta barely vary on the trigger's weights, so
the band is too narrow.  With ``z = 1`` it passes Krum (Baruch et al.'s point: the backdoored
update hides inside the honest spread), where plain BadNets is rejected.
"""

from __future__ import annotations

import functools

import pytest
import torch

from bench.fl import federated_scenario
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

SEEDS = (0, 1, 2)
SETTING = dict(n=25, batch_size=16, epochs=10, beta=0.9, lr=0.1, lr_milestones=())


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Single-threaded runs (tiny models lose to thread oversubscription); restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def scenario(attack: Component, rule: Component, f: int = 5) -> Scenario:
    return federated_scenario(
        dataset=Component("digits"), model=Component("mlp"), split=Component("iid"),
        defense=Defense(rule), attack=attack, f=f, **SETTING,
    )


@functools.cache
def success(attack: Component, rule: Component, seed: int, f: int = 5) -> float:
    record = run(scenario(attack, rule, f), Seeds(split=0, train=seed))
    return 100.0 * record.metrics.values["attack_success_rate"]


def param(attack: Component, rule: Component, *values: float):
    case = scenario(attack, rule)
    return pytest.param(attack, rule, *values, id=case.label,
                        marks=pytest.mark.uses(*case.components))


MEAN, KRUM = Component("mean"), Component("krum")
ALIE_Z1 = Component("alie-backdoor", {"z": 1.0})
LIFTS = [
    (Component("badnets"), MEAN, 48.0),  # 98.4-100; 0-1.6
    (Component("modelreplace"), MEAN, 48.0),  # 98.4-99.4; 0-1.6
    (Component("dba"), MEAN, 45.0),  # 91.6-91.9; 0
    (Component("edgecase"), MEAN, 25.0),  # 59.4-68.8; 9.4
    (ALIE_Z1, KRUM, 38.0),  # 83.2-98.4; 0-5.6
]


@pytest.mark.parametrize(("attack", "rule", "min_lift"), [param(*c) for c in LIFTS])
def test_implants_trigger_on_every_seed(attack: Component, rule: Component,
                                        min_lift: float) -> None:
    lifts = [success(attack, rule, s) - success(attack, rule, s, f=0) for s in SEEDS]
    assert min(lifts) >= min_lift, f"ASR lifts per seed {lifts}, need >= {min_lift}"


BAND_CASE = scenario(ALIE_Z1, KRUM)


@pytest.mark.parametrize(("attack", "rule"), [pytest.param(
    ALIE_Z1, KRUM, id=BAND_CASE.label + "-vs-badnets",
    marks=pytest.mark.uses(*BAND_CASE.components, "badnets"))])
def test_band_lets_the_backdoor_through_where_plain_trigger_fails(attack: Component,
                                                                  rule: Component) -> None:
    # Measured ASR under Krum: alie-backdoor z=1 83.2-98.4 %, plain badnets 0-1.9 %.
    plain = Component("badnets")
    gaps = [success(attack, rule, s) - success(plain, rule, s) for s in SEEDS]
    assert min(gaps) >= 40.0, f"ASR gaps per seed {gaps}"

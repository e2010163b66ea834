"""FLTrust: hand-computed trust weighting, missing server update, simulator hook."""

from __future__ import annotations

import math

import pytest
import torch

from bench.aggregators.fltrust import FLTrust
from bench.fl import federated_scenario
from bench.registry import RegistryError, aggregators
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

pytestmark = pytest.mark.uses("fltrust")


def test_hand_computed_trust_weighting() -> None:
    rule = aggregators.make("fltrust")
    rule.set_server_update(torch.tensor([2.0, 0.0]))
    updates = torch.tensor([[5.0, 0.0], [-1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    # Trust: 1, 0 (negative cosine), 1/sqrt(2), 0 (zero row); rescaled rows (norm 2):
    # [2, 0] and sqrt(2) * [1, 1].  Output = ([2, 0] + [1, 1]) / (1 + 1/sqrt(2)).
    expected = torch.tensor([3.0, 1.0]) / (1 + 1 / math.sqrt(2))
    torch.testing.assert_close(rule(updates), expected)


def test_no_agreeing_update_gives_zero() -> None:
    rule = aggregators.make("fltrust")
    rule.set_server_update(torch.tensor([1.0, 0.0]))
    assert torch.equal(rule(torch.tensor([[-1.0, 0.0], [0.0, 3.0]])), torch.zeros(2))


def test_aggregating_without_server_update_is_an_error() -> None:
    rule = aggregators.make("fltrust")
    with pytest.raises(RuntimeError, match="set_server_update"):
        rule(torch.randn(4, 3))
    rule.set_server_update(torch.ones(3))
    rule.reset()
    with pytest.raises(RuntimeError, match="set_server_update"):
        rule(torch.randn(4, 3))


def test_mismatched_server_update_is_refused() -> None:
    rule = aggregators.make("fltrust")
    with pytest.raises(ValueError, match="Tensor\\[d\\]"):
        rule.set_server_update(torch.ones(2, 3))
    rule.set_server_update(torch.ones(5))
    with pytest.raises(ValueError, match="5 coordinates"):
        rule(torch.randn(4, 3))


def test_root_size_must_be_positive() -> None:
    with pytest.raises(RegistryError, match="root_size"):
        aggregators.make("fltrust", root_size=0)


SCENARIOS = [
    federated_scenario(
        protocol, dataset=Component("digits"), model=Component("mlp"),
        defense=Defense(Component("fltrust", {"root_size": 40})), attack=Component("none"),
        n=5, f=1, epochs=1, max_train=300, batch_size=16, lr_milestones=(),
    )
    for protocol in ("fedsgd", "fedavg")
]


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=s.label, marks=pytest.mark.uses(*s.components)) for s in SCENARIOS],
)
def test_simulator_hands_over_a_server_update_every_round(scenario: Scenario) -> None:
    class Spy(FLTrust):
        def __init__(self) -> None:
            super().__init__(f=1, root_size=40)
            self.handed: list[bool] = []
            self.aggregated = 0

        def set_server_update(self, update: torch.Tensor) -> None:
            self.handed.append(bool(update.norm() > 0))
            super().set_server_update(update)

        def aggregate(self, updates: torch.Tensor) -> torch.Tensor:
            self.aggregated += 1
            assert self.server_update is not None
            assert self.server_update.shape[0] == updates.shape[1]
            return super().aggregate(updates)

    spy = Spy()
    record = run(scenario, Seeds(0, 0), aggregator=spy)
    assert spy.aggregated >= 1 and len(spy.handed) == spy.aggregated and all(spy.handed)
    assert not record.metrics.diverged

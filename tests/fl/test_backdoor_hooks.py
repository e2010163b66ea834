"""How the federated simulators run a backdoor: only the Byzantine clients' batches go through
``poison_batch``, and the attack success rate is measured on the triggered test set."""

from __future__ import annotations

import pytest
import torch

from bench.fl import FedAvg, FedSGD, federated_scenario
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

SETTING = dict(n=10, f=3, batch_size=8, epochs=2, lr=0.1, lr_milestones=())


def scenario(protocol: str, attack: str, **extra) -> Scenario:
    return federated_scenario(
        protocol, dataset=Component("digits"), model=Component("mlp"), split=Component("iid"),
        defense=Defense(Component("mean")), attack=Component(attack), **{**SETTING, **extra})


def labelled(sc: Scenario):
    return pytest.param(sc, id=sc.label, marks=pytest.mark.uses(*sc.components))


def spy(run) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Record the batches the simulator hands to the attack's ``poison_batch``."""
    seen, original = [], run.attack.poison_batch

    def recording(x, y, num_classes):
        seen.append((x.clone(), y.clone()))
        return original(x, y, num_classes)

    run.attack.poison_batch = recording
    return seen


@pytest.mark.parametrize("sc", [labelled(scenario("fedsgd", "badnets"))])
def test_fedsgd_poisons_the_f_byzantine_batches_only(sc: Scenario) -> None:
    sim = FedSGD(sc, Seeds(0, 0))
    seen = spy(sim)
    sim.updates(0.1)
    (x, y), = seen
    assert x.shape == (3, 8, 64) and y.shape == (3, 8)
    # they are the last f clients' batches of the round, as drawn
    fresh = FedSGD(sc, Seeds(0, 0))
    xs, ys = fresh.minibatch(fresh.sampler.next())
    assert torch.equal(x, xs[7:]) and torch.equal(y, ys[7:])


@pytest.mark.parametrize("sc", [labelled(scenario("fedavg", "dba", participation=0.5,
                                                  local_steps=2))])
def test_fedavg_poisons_each_local_step_of_the_sampled_byzantine_clients(sc: Scenario) -> None:
    sim = FedAvg(sc, Seeds(0, 0))
    seen = spy(sim)
    state = sim.participation.get_state()
    byzantine = sum(c >= 7 for c in sim.sample_clients())
    sim.participation.set_state(state)
    sim.updates(0.1)
    assert byzantine == 2  # seed 0 samples clients 0, 3, 6, 7, 8 of 10 (7-9 Byzantine)
    assert len(seen) == 2 and all(x.shape == (byzantine, 8, 64) for x, _ in seen)


@pytest.mark.parametrize("sc", [labelled(scenario("fedsgd", "edgecase"))])
def test_asr_is_the_target_share_of_triggered_test_predictions(sc: Scenario) -> None:
    sim = FedSGD(sc, Seeds(0, 0))
    xt, yt = sim.triggered
    source = sim.data.y_test == 7
    assert xt.shape[0] == int(source.sum()) and bool((yt == 1).all())
    for _ in range(3):
        sim.step()
    sim.test_accuracy()
    predicted = sim.model(xt).argmax(1)
    assert sim.attack_success_rate() == pytest.approx(float((predicted == 1).float().mean()))


@pytest.mark.parametrize("sc", [labelled(scenario("fedsgd", "badnets")),
                                labelled(scenario("fedsgd", "none"))])
def test_record_carries_asr_for_backdoors_only(sc: Scenario) -> None:
    record = run(sc, Seeds(0, 0))
    value = record.metrics.values["attack_success_rate"]
    if sc.attack.name == "none":
        assert value is None and "attack_success_rate" not in record.metrics.curves
    else:
        curve = record.metrics.curves["attack_success_rate"]
        assert len(curve) == 2 and value == curve[-1] and 0.0 <= value <= 1.0
        assert record.metrics.units["attack_success_rate"] == "fraction"

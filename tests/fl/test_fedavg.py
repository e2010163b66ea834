"""FedAvg against FedSGD, an explicit local-SGD loop, and itself under both engines."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from bench.fl import FedAvg, FedSGD, federated_scenario
from bench.registry import models
from bench.run import Seeds, SettingsError, run
from bench.scenario import Component, Defense

pytestmark = pytest.mark.uses("fedavg")

DIGITS = dict(dataset=Component("digits"), model=Component("mlp"),
              defense=Defense(Component("mean")), attack=Component("none"))


@pytest.mark.uses("fedsgd")
def test_fedsgd_without_momentum_is_one_local_step_at_full_participation() -> None:
    common = dict(**DIGITS, n=10, f=2, batch_size=16, epochs=2, lr=0.1, lr_milestones=(1,),
                  engine="vmap")
    sgd = FedSGD(federated_scenario("fedsgd", beta=0.0, **common), Seeds(0, 4))
    avg = FedAvg(federated_scenario("fedavg", local_steps=1, participation=1.0, server_lr=1.0,
                                    **common), Seeds(0, 4))
    assert avg.rounds_per_epoch == pytest.approx(sgd.rounds_per_epoch)
    for _ in range(12):  # crosses the milestone at epoch 1
        sgd.step()
        avg.step()
    torch.testing.assert_close(avg.theta, sgd.theta, rtol=1e-5, atol=1e-6)


@pytest.mark.uses("fedsgd")
def test_whole_runs_agree_with_fedsgd_on_the_oracle_setting() -> None:
    common = dict(**DIGITS, n=10, f=2, batch_size=16, epochs=2, lr=0.1, lr_milestones=())
    sgd = run(federated_scenario("fedsgd", beta=0.0, **common), Seeds(0, 1))
    avg = run(federated_scenario("fedavg", local_steps=1, **common), Seeds(0, 1))
    assert avg.metrics.curves["test_accuracy"] == sgd.metrics.curves["test_accuracy"]
    assert avg.config_hash != sgd.config_hash


def test_local_steps_match_an_explicit_local_sgd_loop_with_momentum() -> None:
    # blobs: 2,250 samples = 5 clients x 450; batch = shard, so each local step is a full-batch
    # step on the client's shard, and the server averages the deltas.
    sc = federated_scenario(
        "fedavg", dataset=Component("blobs"), model=Component("linear"),
        defense=Defense(Component("mean")), attack=Component("none"), n=5, f=0,
        batch_size=450, epochs=3, lr=0.5, lr_milestones=(), local_steps=3, local_momentum=0.5,
        server_lr=0.8)
    sim = FedAvg(sc, Seeds(0, 7))
    torch.manual_seed(7)
    model = models.make("linear", input_shape=(20,), num_classes=5)
    theta = [p.detach().clone() for p in model.parameters()]
    for _ in range(2):
        deltas = []
        for shard in sim.shards:
            x, y = sim.data.x_train[shard], sim.data.y_train[shard]
            local = [p.clone() for p in theta]
            velocity = [torch.zeros_like(p) for p in theta]
            for _ in range(3):
                leaves = [p.requires_grad_(True) for p in local]
                grads = torch.autograd.grad(
                    F.cross_entropy(x @ leaves[0].T + leaves[1], y), leaves)
                velocity = [0.5 * v + g for v, g in zip(velocity, grads, strict=True)]
                local = [(p - 0.5 * v).detach() for p, v in zip(local, velocity, strict=True)]
            deltas.append([a - b for a, b in zip(local, theta, strict=True)])
        theta = [p + 0.8 * torch.stack([d[i] for d in deltas]).mean(0)
                 for i, p in enumerate(theta)]
        sim.step()
    torch.testing.assert_close(sim.theta, torch.cat([p.reshape(-1) for p in theta]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attack", [pytest.param(a, id=a, marks=pytest.mark.uses(a))
                                    for a in ("none", "labelflip", "ipm")])
def test_vectorized_and_sequential_local_steps_agree(attack: str) -> None:
    common = dict(**{**DIGITS, "attack": Component(attack)}, n=10, f=2, batch_size=16,
                  epochs=1, local_steps=3, participation=0.6, local_momentum=0.9)
    fast = FedAvg(federated_scenario("fedavg", engine="vmap", **common), Seeds(1, 3))
    slow = FedAvg(federated_scenario("fedavg", engine="sequential", **common), Seeds(1, 3))
    for _ in range(3):
        fast.step()
        slow.step()
        torch.testing.assert_close(fast.theta, slow.theta, rtol=1e-5, atol=1e-5)


def test_participants_are_seeded_and_include_byzantine_clients() -> None:
    sc = federated_scenario("fedavg", **DIGITS, n=20, f=5, batch_size=16, participation=0.5)
    a, b = FedAvg(sc, Seeds(0, 0)), FedAvg(sc, Seeds(0, 0))
    rounds = [a.sample_clients() for _ in range(30)]
    assert rounds == [b.sample_clients() for _ in range(30)]
    assert all(len(r) == 10 and r == sorted(set(r)) for r in rounds)
    assert any(c >= 15 for r in rounds for c in r)  # Byzantine ids are n - f .. n - 1
    assert len({tuple(r) for r in rounds}) > 1


def test_settings_refuse_impossible_values() -> None:
    for bad, message in [({"local_steps": 0}, "local_steps"), ({"participation": 0.0},
                         "participation"), ({"participation": 0.01}, "samples no client"),
                         ({"server_lr": -1.0}, "server_lr"), ({"local_momentum": 1.0},
                         "local_momentum")]:
        with pytest.raises(SettingsError, match=message):
            federated_scenario("fedavg", **DIGITS, **bad)

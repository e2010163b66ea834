"""The fedsgd simulator against independent re-implementations of seed 003's Algorithm 1."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from bench.fl import FedSGD, federated_scenario
from bench.registry import models
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

pytestmark = pytest.mark.uses("fedsgd")


def scenario(**overrides) -> Scenario:
    base = dict(
        dataset=Component("blobs"),
        model=Component("linear"),
        split=Component("iid"),
        defense=Defense(Component("mean")),
        attack=Component("none"),
        n=5,
        f=0,
        beta=0.9,
        batch_size=450,
        epochs=3,
        lr=0.5,
        lr_milestones=(2,),
    )
    base.update(overrides)
    return federated_scenario(**base)


def test_honest_federation_equals_full_batch_momentum_descent() -> None:
    # blobs: 2,250 training samples = 5 clients x 450; with batch = shard every client's
    # minibatch is its whole shard, so the averaged momentum is full-batch momentum descent.
    sc = scenario()
    run = FedSGD(sc, Seeds(0, 7))
    x, y = run.data.x_train, run.data.y_train

    torch.manual_seed(7)
    model = models.make("linear", input_shape=(20,), num_classes=5)
    params = [p.detach().clone() for p in model.parameters()]
    velocity = [torch.zeros_like(p) for p in params]
    for t in range(6):
        leaves = [p.requires_grad_(True) for p in params]
        logits = x @ leaves[0].T + leaves[1]
        grads = torch.autograd.grad(F.cross_entropy(logits, y), leaves)
        lr = 0.5 * (0.1 if t / 1.0 >= 2 else 1.0)
        velocity = [0.9 * v + 0.1 * g for v, g in zip(velocity, grads, strict=True)]
        params = [(p - lr * v).detach() for p, v in zip(params, velocity, strict=True)]
        run.step()
    expected = torch.cat([p.reshape(-1) for p in params])
    assert run.rounds_per_epoch == pytest.approx(1.0)
    torch.testing.assert_close(run.theta, expected, rtol=1e-5, atol=1e-6)


def test_vectorized_and_sequential_engines_agree_on_a_round() -> None:
    common = dict(dataset=Component("digits"), model=Component("mlp"), n=25, f=5,
                  batch_size=16, attack=Component("none"))
    fast = FedSGD(scenario(engine="vmap", **common), Seeds(1, 3))
    slow = FedSGD(scenario(engine="sequential", **common), Seeds(1, 3))
    for _ in range(3):
        torch.testing.assert_close(fast.updates(0.1).honest, slow.updates(0.1).honest,
                                   rtol=1e-5, atol=1e-5)
        fast.step()
        slow.step()
        torch.testing.assert_close(fast.theta, slow.theta, rtol=1e-5, atol=1e-5)


def test_same_seeds_reproduce_and_new_seed_changes_the_run() -> None:
    sc = scenario(dataset=Component("digits"), model=Component("mlp"), n=10, f=2,
                  batch_size=16, epochs=2)
    first, again = run(sc, Seeds(0, 0)), run(sc, Seeds(0, 0))
    other = run(sc, Seeds(0, 1))
    assert first.metrics.curves["test_accuracy"] == again.metrics.curves["test_accuracy"]
    assert first.metrics.curves["test_accuracy"] != other.metrics.curves["test_accuracy"]
    assert len(first.metrics.curves["test_accuracy"]) == 2
    assert first.config_hash == sc.config_hash()


def test_split_seed_changes_the_partition_not_the_init() -> None:
    sc = scenario(dataset=Component("digits"), model=Component("mlp"), n=10, f=2, batch_size=16)
    a, b = FedSGD(sc, Seeds(0, 0)), FedSGD(sc, Seeds(1, 0))
    assert not torch.equal(a.shards[0], b.shards[0])
    torch.testing.assert_close(a.theta, b.theta)


def test_learning_rate_steps_down_at_each_milestone() -> None:
    sc = scenario(lr=0.1, lr_milestones=(75,), lr_gamma=0.1, epochs=100)
    assert sc.settings.learning_rate(0) == pytest.approx(0.1)
    assert sc.settings.learning_rate(74.9) == pytest.approx(0.1)
    assert sc.settings.learning_rate(75) == pytest.approx(0.01)


def test_one_epoch_is_pool_over_clients_times_batch() -> None:
    sc = scenario(dataset=Component("digits"), model=Component("mlp"), n=25, f=5, batch_size=32)
    run = FedSGD(sc, Seeds())
    assert run.rounds_per_epoch == pytest.approx(run.pool_size / (25 * 32))

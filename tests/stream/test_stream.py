"""The online stream of seed 000: client gradients, the offset inside the federated loop, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.online.stream import OnlineRun, StreamConfig, client_gradients
from bench.registry import perturbations, threatmodels


def component(name: str):
    """A parameter whose id is the component's registered name (so ``-k NAME`` selects it)."""
    return pytest.param(name, marks=pytest.mark.uses(name))


def toy_sets(seed: int = 0, n: int = 120, d: int = 6):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = (0.5 + 0.15 * F.one_hot(y, d).double() + 0.05 * torch.randn((n, d), generator=g,
                                                                    dtype=torch.float64))
    x = x.clamp(0, 1)
    return (x[:80], y[:80]), (x[80:], y[80:])


def toy_run(seed: int = 0, **config) -> OnlineRun:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    train, test = toy_sets(seed)
    cfg = StreamConfig(batch_size=20, burnin_batches=3, accumulative_batches=2, **config)
    return OnlineRun(model, train, test, cfg, torch.Generator().manual_seed(seed))


def test_client_gradients_sum_to_the_batch_gradient() -> None:
    run = toy_run()
    batch = run.batch(0)
    loss = F.cross_entropy(run.model(batch[0]), batch[1])
    full = torch.cat([g.flatten() for g in torch.autograd.grad(loss, run.model.parameters())])
    torch.testing.assert_close(client_gradients(run.model, batch).sum(dim=0), full,
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("threat", [component("noclip"), component("clip-after")])
def test_federated_aggregate_is_the_goal_or_its_clip(threat: str) -> None:
    params = {"bound": 1e-3} if threat == "clip-after" else {}
    # The clean trigger and federated steps never call the perturbation (eps = 0).
    outcome = toy_run().run(perturbations.make("fgsm", eps=0.0), False,
                            threatmodels.make(threat, **params))
    assert outcome.offset_error is not None and outcome.offset_error <= 1e-6
    assert outcome.poison_ratio == pytest.approx(1 / 20)


@pytest.mark.parametrize("name", [component("pgd")])
def test_runs_repeat_exactly_and_count_poisoned_samples(name: str) -> None:
    first = toy_run(accumulate=True).run(perturbations.make(name, eps=0.05))
    again = toy_run(accumulate=True).run(perturbations.make(name, eps=0.05))
    assert (first.accuracy_before, first.accuracy_after) == (again.accuracy_before,
                                                             again.accuracy_after)
    assert first.poison_ratio == 1.0
    clean = toy_run(accumulate=False).run(perturbations.make(name, eps=0.05), False)
    assert clean.poison_ratio == 0.0 and clean.seconds_accumulative is None


def test_more_attacked_clients_than_the_batch_is_refused() -> None:
    with pytest.raises(ValueError, match=r"attacked \(M=30\) must be <= the number of clients"):
        StreamConfig(batch_size=20, attacked=30)


def test_trigger_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"trigger batch must have shape \(20, 6\), got \(19, 6\)"):
        toy_run().check_trigger(torch.zeros((19, 6)))

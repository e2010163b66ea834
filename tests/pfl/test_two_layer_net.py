"""The 784-784-10 ReLU net of seed 004 Appendix C (``relunet``) on the client axis.

Small float64 nets: the batched engine (one ``bmm`` over the users' own weights) must agree with
the sequential loop user by user, for one local step and for whole server runs; the flat layout
must match ``torch.nn`` layers holding the same numbers.
"""

from __future__ import annotations

import pytest
import torch

from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.losses import MultilayerPerceptron
from bench.pfl.server import ServerConfig, simulate
from bench.registry import pfl_models, regularizers

pytestmark = pytest.mark.uses("relunet")
FEATURES, HIDDEN, CLASSES = 6, 5, 3


def ragged_users(generator: torch.Generator, sizes: list[int], form: str) -> Federation:
    users = []
    for size in sizes:
        queries = torch.rand(size, FEATURES, generator=generator, dtype=torch.float64)
        labels = torch.randint(CLASSES, (size,), generator=generator)
        users.append((queries, torch.nn.functional.one_hot(labels, CLASSES).double()))
    return Federation.stack(users, form)


def test_registered_relunet_has_the_seed_size() -> None:
    net = pfl_models.make("relunet", classes=10)
    assert isinstance(net, MultilayerPerceptron)
    assert net.dim(784) == 623_290  # (784 + 1) x 784 + (784 + 1) x 10, seed 004 Appendix C


def test_relunet_flat_layout_matches_torch_layers() -> None:
    generator = torch.Generator().manual_seed(0)
    net = MultilayerPerceptron(FEATURES, HIDDEN, CLASSES)
    theta = net.initial(FEATURES, generator, torch.float64)
    assert theta.shape == (net.dim(FEATURES),)
    first = torch.nn.Linear(FEATURES, HIDDEN).double()
    second = torch.nn.Linear(HIDDEN, CLASSES).double()
    torch.nn.utils.vector_to_parameters(theta, [*first.parameters(), *second.parameters()])
    queries = torch.rand(4, FEATURES, generator=generator, dtype=torch.float64)
    expected = second(torch.relu(first(queries)))
    torch.testing.assert_close(net.logits(theta[None], queries[None])[0], expected,
                               rtol=1e-12, atol=1e-12)
    # The initial draw keeps every entry within 1 / sqrt(fan_in) of 0.
    split = torch.split(theta, [HIDDEN * FEATURES, HIDDEN, CLASSES * HIDDEN, CLASSES])
    fans = [FEATURES, FEATURES, HIDDEN, HIDDEN]
    assert all(float(part.abs().max()) <= fan**-0.5 for part, fan in zip(split, fans, strict=True))


@pytest.mark.parametrize("form", ["sum", "mean"], ids=["sumform", "expform"])
def test_relunet_batched_and_sequential_engines_agree_on_ragged_users(form: str) -> None:
    generator = torch.Generator().manual_seed(1)
    data = ragged_users(generator, [7, 2, 4], form)
    net = MultilayerPerceptron(FEATURES, HIDDEN, CLASSES)
    problem = LocalProblem(net, regularizers.make("l2sq", lam=0.5), 0.1)
    rho = net.initial(FEATURES, generator, torch.float64)
    theta = rho + 0.1 * torch.randn(3, rho.numel(), generator=generator, dtype=torch.float64)
    step = {e: problem.update(theta, rho, data, "step", 0.05, e) for e in ("batched", "sequential")}
    torch.testing.assert_close(step["batched"], step["sequential"], rtol=1e-12, atol=1e-12)
    assert float((step["batched"] - theta).abs().max()) > 1e-4  # the step moved the models
    runs = {e: simulate(problem, data, ServerConfig(step=0.05, rounds=5, local_lr=0.05, engine=e),
                        rho) for e in ("batched", "sequential")}
    torch.testing.assert_close(runs["batched"].rho, runs["sequential"].rho, rtol=1e-12,
                               atol=1e-12)
    torch.testing.assert_close(runs["batched"].theta, runs["sequential"].theta, rtol=1e-12,
                               atol=1e-12)


def test_relunet_bad_sizes_name_the_field() -> None:
    with pytest.raises(ValueError, match="hidden"):
        MultilayerPerceptron(hidden=0)
    with pytest.raises(ValueError, match="classes"):
        MultilayerPerceptron(classes=1)
    with pytest.raises(ValueError, match="features"):
        MultilayerPerceptron(features=784).dim(64)

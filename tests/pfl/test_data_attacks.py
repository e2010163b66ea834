"""Label mapping and random theta_nat-labelled queries (seed 004 §5.1, Lemma 14)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.pfl.exact import global_optimum
from bench.pfl.federation import Federation
from bench.pfl.server import ServerConfig
from bench.registry import pfl_attacks
from tests.pfl.setups import context, linear_setup

CONFIG = ServerConfig(step=0.005, rounds=1, local_mode="exact")


@pytest.mark.uses("labelmap")
def test_labelmap_sends_each_class_to_the_next_modulo_ten() -> None:
    setup = linear_setup()
    labels = torch.eye(10, dtype=torch.float64)
    own = (torch.zeros(10, 5, dtype=torch.float64), labels)
    queries, mapped, alpha = pfl_attacks.make("labelmap").poison(context(setup, CONFIG, own))
    assert mapped.argmax(dim=-1).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert torch.equal(queries, own[0]) and alpha == 1.0


@pytest.mark.uses("labelmap")
def test_labelmap_needs_its_own_class_labels() -> None:
    setup = linear_setup()
    with pytest.raises(ValueError, match="own"):
        pfl_attacks.make("labelmap").poison(context(setup, CONFIG))
    own = (torch.zeros(3, 5, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="class labels"):
        pfl_attacks.make("labelmap").poison(context(setup, CONFIG, own))


@pytest.mark.uses("randquery", "l2sq")
def test_lemma_fourteen_randquery_with_l2sq_approaches_the_model_attack() -> None:
    # The model-attack optimum rho*(theta_nat) is the limit; label noise 0.5 keeps it a limit.
    setup = linear_setup(users=3, points=40)
    model = setup.target
    limit = global_optimum(setup.problem, setup.honest, model.unsqueeze(0))[0]
    honest_only = global_optimum(setup.problem, setup.honest)[0]
    sizes = [10, 100, 1000, 10000]
    gaps = []
    for size in sizes:
        attack = pfl_attacks.make("randquery", points=size, source="target", noise=0.5)
        queries, labels, _ = attack.poison(context(setup, CONFIG))
        everyone = Federation.concat([setup.honest, Federation.stack([(queries, labels)])])
        gaps.append(float((global_optimum(setup.problem, everyone)[0] - limit).norm()))
    assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    assert gaps[-1] <= 0.05 * float((limit - honest_only).norm())
    slope = np.polyfit(np.log(sizes), np.log(gaps), 1)[0]
    assert slope <= -0.25


@pytest.mark.uses("randquery")
def test_randquery_pool_draws_from_the_attackers_queries_and_checks_parameters() -> None:
    setup = linear_setup()
    pool = torch.arange(15, dtype=torch.float64).reshape(3, 5)
    own = (pool, torch.zeros(3, dtype=torch.float64))
    queries, labels, _ = pfl_attacks.make("randquery", points=20, queries="pool").poison(
        context(setup, CONFIG, own))
    assert all(any(torch.equal(q, p) for p in pool) for q in queries)
    torch.testing.assert_close(labels, queries @ setup.target)
    for bad in ({"points": 0}, {"source": "x"}, {"queries": "x"}, {"noise": -1.0}):
        with pytest.raises(ValueError):
            pfl_attacks.make("randquery", **bad)

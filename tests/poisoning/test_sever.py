"""Sever's outlier scores (Diakonikolas et al. 2019; seed 002 App. C.10) on hand-made cases."""

from __future__ import annotations

import pytest
import torch

from bench.poisoning import sanitizers as sz
from bench.poisoning.data import squares3
from bench.poisoning.objective import linear_objective, params_to_torch
from bench.registry import sanitizers, victims

from .conftest import C_R

pytestmark = pytest.mark.uses("sever")


def test_sever_scores_by_hand() -> None:
    # centred rows (-1, 0), (-1, 0), (-1, 0), (3, 0): top direction e1, scores 1, 1, 1, 9
    g = torch.tensor([[0.0, 5.0], [0.0, 5.0], [0.0, 5.0], [4.0, 5.0]])
    assert torch.allclose(sz.sever_scores(g), torch.tensor([1.0, 1.0, 1.0, 9.0]))
    assert sz.keep_lowest(sz.sever_scores(g), 1).tolist() == [True, True, True, False]


def test_sever_removes_planted_far_points(or_set, or_victim) -> None:
    obj = linear_objective("logistic", C_R)
    x = torch.cat([torch.tensor(or_set.x_train), torch.full((5, 2), -6.0)])
    y = torch.cat([torch.tensor(or_set.y_train), torch.ones(5)])
    fitted = or_victim.fit(x.numpy(), y.numpy())
    keep = sanitizers.make("sever").keep(obj, params_to_torch(fitted), x, y, 5)
    assert keep[:200].all() and not keep[200:].any()


@pytest.mark.parametrize("remove", [-1, 4])
def test_sever_refuses_impossible_removals(remove: int) -> None:
    with pytest.raises(sz.SanitizerError, match="remove"):
        sz.keep_lowest(torch.zeros(4), remove)


@pytest.mark.uses("leakynet")
def test_leakynet_last_layer_gradients_are_the_last_columns_of_the_full_matrix() -> None:
    victim = victims.make_with_optional("leakynet", {"c_r": C_R, "classes": 3, "features": 64},
                                        hidden=8, epochs=1)
    params = victim.initial(torch.Generator().manual_seed(0))
    data = squares3()
    x, y = torch.as_tensor(data.x_train[:40]), victim.labels(data.y_train[:40])
    full = victim.objective.per_sample_gradients(params, x, y)
    last = victim.objective.per_sample_gradients(params, x, y, ("wout", "bout"), chunk=7)
    assert last.shape == (40, 3 * 8 + 3)
    assert torch.allclose(last, full[:, -last.shape[1]:], atol=1e-12)
    kept = sanitizers.make("sever", layers="last").keep(victim.objective, params, x, y, 4)
    assert torch.equal(kept, sz.keep_lowest(sz.sever_scores(last), 4))


def test_sever_refuses_an_unknown_layer_choice() -> None:
    with pytest.raises(ValueError, match="sever: layers must be one of"):
        sanitizers.make("sever", layers="first")

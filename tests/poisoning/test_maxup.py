"""MaxUp (Gong et al. 2021; seed 002 App. C.10): the worst-copy loss and its retraining."""

from __future__ import annotations

import math

import pytest
import torch

from bench.poisoning.convex import LogisticVictim
from bench.poisoning.objective import linear_objective, params_to_torch
from bench.poisoning.robust_training import worst_copy_loss
from bench.poisoning.sanitizers import SanitizerError
from bench.registry import sanitizers

from .conftest import C_R

pytestmark = pytest.mark.uses("maxup")


def test_worst_copy_loss_by_hand() -> None:
    # w = 1, b = 0, x = 0, y = +1; copies at -1 and +1: losses log(1 + e), log(1 + 1/e)
    obj = linear_objective("logistic", 0.0)
    params = {"w": torch.tensor([1.0]), "b": torch.tensor(0.0)}
    noise = torch.tensor([[[-1.0]], [[1.0]]])
    value = worst_copy_loss(obj, params, torch.zeros(1, 1), torch.ones(1), noise)
    assert float(value) == pytest.approx(math.log(1 + math.e), rel=1e-14)


def test_noise_free_maxup_is_plain_training(or_set) -> None:
    # sigma = 0 and one copy: MaxUp's objective is the victim's, so it converges to the exact fit
    # (C_R = 0.1 keeps the problem well conditioned; 20 points of the OR set, both classes)
    obj, victim = linear_objective("logistic", 0.1), LogisticVictim(c_r=0.1)
    xs, ys = or_set.x_train[::10], or_set.y_train[::10]
    exact = params_to_torch(victim.fit(xs, ys))
    start = {"w": torch.zeros(2), "b": torch.tensor(0.0)}
    got = sanitizers.make("maxup", copies=1, sigma=0.0, steps=400, lr=1.0).retrain(
        obj, start, torch.tensor(xs), torch.tensor(ys), seed=0)
    assert torch.allclose(got["w"], exact["w"], atol=1e-6)
    assert torch.allclose(got["b"], exact["b"], atol=1e-6)


def test_maxup_is_seeded(or_set) -> None:
    obj = linear_objective("logistic", C_R)
    x, y = torch.tensor(or_set.x_train), torch.tensor(or_set.y_train)
    start = {"w": torch.zeros(2), "b": torch.tensor(0.0)}
    maxup = sanitizers.make("maxup", steps=20)
    first, again = (maxup.retrain(obj, start, x, y, seed=5) for _ in range(2))
    other = maxup.retrain(obj, start, x, y, seed=6)
    assert torch.equal(first["w"], again["w"]) and not torch.equal(first["w"], other["w"])


@pytest.mark.parametrize("field,value", [("copies", 0), ("sigma", -1.0), ("steps", 0),
                                         ("lr", float("nan")), ("momentum", 1.0)],
                         ids=["copies", "sigma", "steps", "lr", "momentum"])
def test_maxup_refuses_bad_parameters(field, value) -> None:
    with pytest.raises(ValueError, match=field):
        sanitizers.make("maxup", **{field: value})


def test_worst_copy_loss_checks_noise_shape() -> None:
    obj = linear_objective("logistic", 0.0)
    params = {"w": torch.tensor([1.0]), "b": torch.tensor(0.0)}
    with pytest.raises(SanitizerError, match="noise"):
        worst_copy_loss(obj, params, torch.zeros(2, 1), torch.ones(2), torch.zeros(3, 1, 1))

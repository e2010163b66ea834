"""Gradient Matching baseline (seed 002 eqs. 35-36): reversed loss and direction matching."""

from __future__ import annotations

import math

import pytest
import torch

from bench.poisoning import matching
from bench.poisoning.objective import linear_objective, params_to_torch
from bench.registry import poisoners

from .conftest import C_R

pytestmark = pytest.mark.uses("gradmatch")


def test_reversed_loss_by_hand() -> None:
    # logistic: -log(1 - sigma(m)) = log(1 + e^m); softmax with 2 classes agrees
    m = torch.tensor([0.0, 2.0])
    expected = torch.log1p(torch.exp(m))
    assert torch.allclose(matching.reversed_loss("logistic", m, torch.ones(2)), expected)
    logits = torch.stack([torch.zeros(2), m], dim=1)
    assert torch.allclose(matching.reversed_loss("softmax", logits, torch.ones(2)), expected)
    assert matching.reversed_loss("logistic", torch.zeros(1), torch.ones(1)) == math.log(2)


def test_matching_aligns_the_poison_gradient(or_set, or_victim) -> None:
    obj = linear_objective("logistic", C_R)
    clean = params_to_torch(or_victim.fit(or_set.x_train, or_set.y_train))
    x, y = torch.tensor(or_set.x_train), torch.tensor(or_set.y_train)
    result = poisoners.make("gradmatch", epochs=100, lr=0.1).poison(
        obj, clean, clean, x, y, 0.1, 0.0, 1.0, 0)
    assert result.curve[-1] < 0.5 * result.curve[0]
    assert bool((result.x >= 0).all() and (result.x <= 1).all())
    assert result.x.shape == (20, 2)


def test_squared_victim_is_refused() -> None:
    with pytest.raises(matching.PoisonError, match="logistic or softmax"):
        matching.reversed_loss("squared", torch.zeros(1), torch.zeros(1))

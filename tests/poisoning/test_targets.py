"""Target generators (seed 002 §5, seed 001 §3): radius rule, ascent, determinism, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.poisoning import targets as tg
from bench.poisoning.objective import linear_objective, params_from_torch, params_to_torch
from bench.registry import targets

from .conftest import C_R


def _clean(or_set, or_victim):
    params = params_to_torch(or_victim.fit(or_set.x_train, or_set.y_train))
    x, y = torch.tensor(or_set.x_train), torch.tensor(or_set.y_train)
    return linear_objective("logistic", C_R), params, x, y


@pytest.mark.uses("gradpc")
def test_gradpc_stays_in_the_ball_and_raises_the_loss(or_set, or_victim) -> None:
    obj, clean, x, y = _clean(or_set, or_victim)
    target = targets.make("gradpc", eps_w=0.5, steps=50).build(obj, clean, x, y, None, 0)
    delta = tg.flatten(target) - tg.flatten(clean)
    assert float(delta.norm()) <= 0.5 * float(tg.flatten(clean).norm()) * (1 + 1e-12)
    assert float(obj.losses(target, x, y).mean()) > float(obj.losses(clean, x, y).mean()) + 0.5
    again = targets.make("gradpc", eps_w=0.5, steps=50).build(obj, clean, x, y, None, 0)
    assert all(torch.equal(target[k], again[k]) for k in target)


@pytest.mark.uses("randompc")
def test_randompc_has_the_exact_radius(or_set, or_victim) -> None:
    obj, clean, x, y = _clean(or_set, or_victim)
    maker = targets.make("randompc", eps_w=0.25)
    first, second = maker.build(obj, clean, x, y, None, 3), maker.build(obj, clean, x, y, None, 4)
    radius = 0.25 * float(tg.flatten(clean).norm())
    for target in (first, second):
        assert float((tg.flatten(target) - tg.flatten(clean)).norm()) == pytest.approx(radius)
    assert not torch.equal(first["w"], second["w"])


@pytest.mark.uses("flipped")
def test_flipped_rate_zero_is_the_clean_fit(or_set, or_victim) -> None:
    obj, clean, x, y = _clean(or_set, or_victim)
    same = targets.make("flipped", rate=0.0).build(obj, clean, x, y, or_victim, 0)
    assert torch.allclose(same["w"], clean["w"], atol=1e-7)
    worse = targets.make("flipped", rate=0.5).build(obj, clean, x, y, or_victim, 0)
    clean_objective = or_victim.objective(params_from_torch(clean), or_set.x_train,
                                          or_set.y_train)
    # the clean fit minimises the clean objective, so any other model scores higher on it
    assert or_victim.objective(params_from_torch(worse), or_set.x_train,
                               or_set.y_train) > clean_objective + 1e-3


def test_flipping_integer_and_sign_labels() -> None:
    assert np.array_equal(tg.flip_labels(np.array([1.0, -1.0])), [-1.0, 1.0])
    assert np.array_equal(tg.flip_labels(np.array([0, 3, 9])), [9, 6, 0])


def test_supplied_model_must_fit_the_victim() -> None:
    clean = {"w": torch.zeros(3), "b": torch.zeros(())}
    assert torch.equal(tg.supplied(clean, {"w": torch.ones(3), "b": torch.zeros(())})["w"],
                       torch.ones(3))
    with pytest.raises(tg.TargetError, match="'w'"):
        tg.supplied(clean, {"w": torch.ones(4), "b": torch.zeros(())})
    with pytest.raises(tg.TargetError, match="parameters"):
        tg.supplied(clean, {"w": torch.ones(3)})
    with pytest.raises(tg.TargetError, match="NaN"):
        tg.supplied(clean, {"w": torch.full((3,), float("nan")), "b": torch.zeros(())})
    with pytest.raises(tg.TargetError, match="eps_w"):
        tg.absolute_radius(clean, 0.0)

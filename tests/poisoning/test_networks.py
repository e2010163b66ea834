"""Seed 002's network victims (LeakyReLU NN, small CNN): shapes, seeding, fit, last-layer tau."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.poisoning import threshold as th
from bench.poisoning.data import squares3
from bench.poisoning.networks import NetworkDiverged
from bench.poisoning.victims import VictimError
from bench.registry import victims

SMALL = {"leakynet": {"hidden": 16, "epochs": 10, "batch_size": 30, "lr": 0.1},
         "convnet": {"channels": (2, 4), "hidden": 8, "epochs": 40, "batch_size": 30, "lr": 0.1}}


def build(name: str, **overrides):
    params = {**SMALL[name], **overrides}
    return victims.make_with_optional(name, {"c_r": 1e-3, "classes": 3, "features": 64}, **params)


each_network = pytest.mark.parametrize(
    "name",
    [pytest.param(n, id=f"{n}-squares3", marks=pytest.mark.uses(n, "squares3")) for n in SMALL])


@pytest.fixture(scope="module")
def tiny():
    return squares3()


@pytest.mark.uses("leakynet")
def test_leakynet_layout() -> None:
    params = build("leakynet").initial(torch.Generator().manual_seed(0))
    shapes = {k: tuple(v.shape) for k, v in params.items()}
    assert shapes == {"w1": (16, 64), "b1": (16,), "w2": (16, 16), "b2": (16,),
                      "wout": (3, 16), "bout": (3,)}


@pytest.mark.uses("convnet")
def test_convnet_layout() -> None:
    # 8x8 -> conv3 6x6 -> conv3 4x4 -> pool 2x2, 4 channels: 16 features into FC 8
    params = build("convnet").initial(torch.Generator().manual_seed(0))
    shapes = {k: tuple(v.shape) for k, v in params.items()}
    assert shapes == {"k1": (2, 1, 3, 3), "c1": (2,), "k2": (4, 2, 3, 3), "c2": (4,),
                      "w1": (8, 16), "b1": (8,), "wout": (3, 8), "bout": (3,)}
    assert tuple(build("convnet").forward(params, torch.zeros(5, 64)).shape) == (5, 3)


@each_network
def test_fit_is_seeded(name, tiny) -> None:
    first, again = build(name).fit(tiny.x_train, tiny.y_train), build(name).fit(
        tiny.x_train, tiny.y_train)
    other = build(name, seed=1).fit(tiny.x_train, tiny.y_train)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


@each_network
def test_tiny_fit_separates_the_prototypes(name, tiny) -> None:
    # measured 1.0 test score for both; chance is 1/3
    victim = build(name)
    assert victim.score(victim.fit(tiny.x_train, tiny.y_train), tiny.x_test, tiny.y_test) >= 0.9


@each_network
def test_tau_equals_the_threshold_of_the_forward_logits(name, tiny) -> None:
    # the last layer maps penultimate features to the logits, so tau equals tau(2) of forward()
    victim = build(name, epochs=1)
    params = victim.initial(torch.Generator().manual_seed(3))
    logits = victim.forward(params, torch.as_tensor(tiny.x_train)).detach().numpy()
    rho = 1e-3 * float(params["wout"].pow(2).sum())
    expected = th.tau_softmax(logits, tiny.y_train, classes=2, rho=rho)
    assert victim.tau(params, tiny.x_train, tiny.y_train) == pytest.approx(expected, rel=1e-12)


@each_network
def test_extra_points_join_the_training_set(name, tiny) -> None:
    victim = build(name, epochs=2)
    x, y = tiny.x_train, tiny.y_train
    split = victim.fit(x[:60], y[:60], extra_x=x[60:], extra_y=y[60:])
    whole = victim.fit(x, y)
    assert all(torch.equal(split[k], whole[k]) for k in whole)


@pytest.mark.uses("convnet")
def test_convnet_refuses_a_non_square_input() -> None:
    with pytest.raises(ValueError, match="features"):
        victims.make_with_optional("convnet", {"c_r": 1e-3, "classes": 3, "features": 50})


@pytest.mark.uses("leakynet")
@pytest.mark.parametrize("field,value", [("lr", float("nan")), ("epochs", 0), ("hidden", 0)],
                         ids=["lr", "epochs", "hidden"])
def test_leakynet_refuses_bad_budget(field, value) -> None:
    with pytest.raises(ValueError, match=field):
        build("leakynet", **{field: value})


@pytest.mark.uses("leakynet", "squares3")
def test_leakynet_divergence_on_squares3(tiny) -> None:
    with pytest.raises(NetworkDiverged, match="leakynet"):
        build("leakynet", lr=1e6).fit(tiny.x_train, tiny.y_train)


@pytest.mark.uses("leakynet")
def test_leakynet_needs_a_multiclass_task() -> None:
    with pytest.raises(VictimError, match="multiclass"):
        build("leakynet").check("binary")


@pytest.mark.uses("squares3")
def test_squares3_labels_cycle(tiny) -> None:
    assert np.array_equal(tiny.y_train[:6], [0, 1, 2, 0, 1, 2]) and tiny.x_train.shape == (90, 64)
    assert tiny.x_train.min() >= 0.0 and tiny.x_train.max() <= 1.0


@each_network
def test_a_network_keeps_its_model_and_labels_on_its_device(name, tiny) -> None:
    victim = build(name, device="cpu")
    params = victim.fit(tiny.x_train, tiny.y_train)
    assert victim.device == torch.device("cpu") and "device=cpu" in repr(victim)
    assert all(p.device == victim.device for p in params.values())
    assert victim.labels(tiny.y_train).device == victim.device
    # the same seed draws the same initialisation whatever the device asked for
    assert torch.equal(build(name).fit(tiny.x_train, tiny.y_train)["bout"], params["bout"])

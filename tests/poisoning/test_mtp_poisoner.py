"""The registered Algorithm 1 poisoner: what it hands the protocol, and its input errors."""

from __future__ import annotations

import pytest
import torch

from bench.poisoning.box2d import box2d
from bench.poisoning.convex import HingeVictim
from bench.poisoning.gradient_canceling import PoisonError
from bench.poisoning.loss_difference import hinge_max_difference
from bench.poisoning.model_targeted import ModelTargetedPoisoning, flip_target
from bench.poisoning.objective import linear_objective, params_from_torch, params_to_torch

pytestmark = pytest.mark.uses("mtp")
HINGE = linear_objective("hinge", 0.09)


@pytest.fixture(scope="module")
def setting():
    data = box2d(0, n=60)
    victim = HingeVictim(0.09)
    target = params_to_torch(flip_target(victim, data.x_train, data.y_train, 0.3, False).params)
    clean = params_to_torch(victim.fit(data.x_train, data.y_train))
    return data, victim, target, clean, torch.as_tensor(data.x_train), torch.as_tensor(
        data.y_train)


def test_reported_values_agree_with_the_poisons(setting) -> None:
    data, victim, target, clean, x, y = setting
    out = ModelTargetedPoisoning(epsilon=0.01, certify="target").poison(
        HINGE, target, clean, x, y, 3.0, 0.0, 1.0, seed=0)
    m = out.metrics
    n_p = out.x.shape[0]
    assert m["epsilon_reached"] == 1.0 and m["max_loss_difference"] <= 0.01
    assert m["attack_retrains"] == n_p + 1 == len(out.curve)   # one copy per retrain
    assert 0 < m["lower_bound"] <= n_p and m["lower_bound_ratio"] == m["lower_bound"] / n_p
    assert bool(((out.x >= 0) & (out.x <= 1)).all())
    # The protocol's refit on D_c u D_p is the attack's last iterate: epsilon-close.
    theta = victim.fit(data.x_train, data.y_train, extra_X=out.x.numpy(), extra_y=out.y.numpy())
    exact = hinge_max_difference(theta, params_from_torch(target), 0.0, 1.0).value
    assert exact == pytest.approx(m["max_loss_difference"], abs=1e-6) and exact <= 0.01


def test_per_iteration_curves_follow_the_run(setting) -> None:
    data, victim, target, clean, x, y = setting
    out = ModelTargetedPoisoning(epsilon=0.01, certify="target").poison(
        HINGE, target, clean, x, y, 3.0, 0.0, 1.0, seed=0)
    curves = out.curves
    assert {len(c) for c in curves.values()} == {len(out.curve)}
    best, bound = curves["best_loss_difference"], curves["lower_bound"]
    assert best == [min(out.curve[:t + 1]) for t in range(len(out.curve))]
    assert bound == sorted(bound) and bound[-1] == out.metrics["lower_bound"]
    assert all(0.0 <= a <= 1.0 for a in curves["train_accuracy"])
    theta_0 = params_from_torch(clean)
    assert curves["target_distance"][0] == pytest.approx(
        theta_0.distance(params_from_torch(target)), rel=1e-6)   # iteration 0 is the clean fit
    uncertified = ModelTargetedPoisoning(epsilon=0.01, certify="never").poison(
        HINGE, target, clean, x, y, 3.0, 0.0, 1.0, seed=0)
    assert "lower_bound" not in uncertified.curves


def test_budget_caps_the_attack(setting) -> None:
    _, _, target, clean, x, y = setting
    out = ModelTargetedPoisoning(epsilon=1e-6, certify="never").poison(
        HINGE, target, clean, x, y, 5 / 60, 0.0, 1.0, seed=0)
    assert out.x.shape[0] == 5 and out.metrics["epsilon_reached"] == 0.0
    assert out.metrics["lower_bound"] is None


@pytest.mark.parametrize("kw, match", [({"epsilon": 0.0}, "epsilon"), ({"copies": 0}, "copies"),
                                       ({"restarts": 0}, "restarts"),
                                       ({"certify": "always"}, "certify")],
                         ids=["epsilon", "copies", "restarts", "certify"])
def test_bad_parameter_names_the_field(kw, match) -> None:
    with pytest.raises(PoisonError, match=match):
        ModelTargetedPoisoning(**kw)


def test_no_box_or_unsupported_loss_is_refused(setting) -> None:
    _, _, target, clean, x, y = setting
    attack = ModelTargetedPoisoning()
    with pytest.raises(PoisonError, match="feature box"):
        attack.poison(HINGE, target, clean, x, y, 0.5, None, None, seed=0)
    with pytest.raises(PoisonError, match="hinge or logistic"):
        attack.poison(linear_objective("squared", 0.09), target, clean, x, y, 0.5, 0.0, 1.0,
                      seed=0)

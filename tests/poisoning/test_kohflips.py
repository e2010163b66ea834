"""The label-flip baseline of seed 001 Table 5: the koh target's own poisons induce it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.poisoning.box2d import box2d
from bench.poisoning.convex import HingeVictim
from bench.poisoning.model_targeted import KohFlips, flip_target
from bench.poisoning.objective import linear_objective, params_to_torch

pytestmark = pytest.mark.uses("kohflips")


def test_poisons_are_the_repeated_flips_and_refitting_lands_on_the_target() -> None:
    data = box2d(0, n=60)
    victim = HingeVictim(0.09)
    x, y = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train)
    chosen = flip_target(victim, data.x_train, data.y_train, 0.3, False)
    clean = params_to_torch(victim.fit(data.x_train, data.y_train))
    poisons = KohFlips(goal=0.3).poison(linear_objective("hinge", 0.09), clean, clean, x, y,
                                        0.1, 0.0, 1.0, seed=0)
    assert poisons.x.shape[0] == chosen.poison_count == len(chosen.poison_y) * chosen.repeat
    # Every poison is a training point with its label negated.
    rows = {tuple(r): label for r, label in zip(data.x_train, data.y_train, strict=True)}
    for row, label in zip(poisons.x.numpy(), poisons.y.numpy(), strict=True):
        assert rows[tuple(row)] == -label
    back = victim.fit(data.x_train, data.y_train, extra_X=poisons.x.numpy(),
                      extra_y=poisons.y.numpy())
    assert back.distance(chosen.params) <= 1e-6
    assert 1 - victim.accuracy(chosen.params, data.x_train, data.y_train) >= 0.3
    np.testing.assert_array_equal(chosen.poison_y, -data.y_train[[
        int(np.flatnonzero((data.x_train == p).all(axis=1))[0]) for p in chosen.poison_X]])

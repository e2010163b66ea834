"""Bad input to the PFL track (issue: lam <= 0, eta <= 0, a target of the wrong shape, the exact
solver on a non-quadratic case, N < 2, an unknown aggregator): each is refused with a message
naming the field, from a grid file as well as from the Python API."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from bench.grid import GridError, load_grid
from bench.pfl.attacks.base import AttackError
from bench.pfl.exact import global_optimum
from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem, NotQuadratic
from bench.pfl.losses import MultilayerPerceptron, SoftmaxClassifier
from bench.pfl.server import ServerConfig
from bench.registry import regularizers
from tests.pfl.setups import context, linear_setup

GRID = {"tier": "smoke", "protocol": "pfl", "seeds": [0],
        "defaults": {"users": 3, "rounds": 5, "local": "exact"},
        "settings": [{"dataset": "synreg", "model": "linreg"}],
        "defenses": ["l2sq"], "attacks": ["none"], "expect": {"floor": 0.0}}


@pytest.mark.parametrize("field, value, message", [
    ("lam", 0.0, "lam must be > 0"), ("lam", -1.0, "lam must be > 0"),
    ("step", 0.0, "step must be > 0"), ("step", -0.5, "step must be > 0"),
    ("users", 1, "users must be >= 2"), ("aggregator", "nosuchrule", "aggregator: unknown rule"),
], ids=["lamzero", "lamnegative", "etazero", "etanegative", "oneuser", "unknownrule"])
def test_grid_with_a_bad_setting_fails_at_load_naming_it(tmp_path: Path, field: str, value,
                                                         message: str) -> None:
    grid = {**GRID, "defaults": {**GRID["defaults"], field: value}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(grid))
    with pytest.raises(GridError, match=message) as info:
        load_grid(path)
    assert str(path) in str(info.value)


def test_target_of_the_wrong_shape_is_refused_naming_it() -> None:
    setup = linear_setup(features=5)
    setup.target = torch.zeros(4, dtype=torch.float64)
    with pytest.raises(AttackError, match=r"target must have shape \(5,\).*got \(4,\)"):
        context(setup, ServerConfig(step=0.1, rounds=1, local_mode="exact"))


@pytest.mark.uses("softmax", "relunet")
def test_exact_solver_refuses_softmax_and_relunet() -> None:
    users = Federation.stack([(torch.rand(4, 6, dtype=torch.float64),
                               torch.eye(3, dtype=torch.float64)[[0, 1, 2, 0]])])
    for loss in (SoftmaxClassifier(3), MultilayerPerceptron(6, 4, 3)):
        problem = LocalProblem(loss, regularizers.make("l2sq", lam=1.0))
        with pytest.raises(NotQuadratic, match="linear regression with l2sq"):
            global_optimum(problem, users)
        with pytest.raises(NotQuadratic, match="quadratic loss"):
            problem.exact(torch.zeros(loss.dim(6), dtype=torch.float64), users)

"""Small float64 personalized linear-regression federations shared by the PFL unit tests."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from bench.pfl.attacks.base import AttackContext
from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.losses import LinearRegression
from bench.pfl.server import ServerConfig
from bench.pfl.synthetic import linear_regression_users, preferred_models
from bench.registry import regularizers


@dataclass
class Setup:
    problem: LocalProblem
    honest: Federation
    target: Tensor
    generator: torch.Generator


def linear_setup(
    regularizer: str = "l2sq", users: int = 4, features: int = 5, points: int = 30,
    lam: float = 1.0, nu: float = 0.0, seed: int = 0, target_scale: float = 3.0,
) -> Setup:
    generator = torch.Generator().manual_seed(seed)
    models = preferred_models(generator, users, features)
    data = linear_regression_users(generator, models, [points] * users, noise=0.1)
    problem = LocalProblem(LinearRegression(), regularizers.make(regularizer, lam=lam), nu)
    target = target_scale * torch.randn(features, generator=generator, dtype=torch.float64)
    return Setup(problem, Federation.stack(data), target, generator)


def context(setup: Setup, server: ServerConfig, own=None) -> AttackContext:
    init = torch.zeros_like(setup.target)
    return AttackContext(setup.problem, setup.honest, setup.target, server, init,
                         setup.generator, own=own)


def each(*names: str) -> list:
    """Parametrize values for component names: each case's id is its name and it uses it."""
    import pytest

    return [pytest.param(name, id=name, marks=pytest.mark.uses(name)) for name in names]

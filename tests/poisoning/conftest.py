"""Shared small fixtures of the data-poisoning tests: the OR set and a 0 %-accuracy target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.poisoning import data
from bench.poisoning.convex import LogisticVictim, Params

C_R = 1e-3


@pytest.fixture(scope="session")
def or_set() -> data.PoisonData:
    return data.or2d()


@pytest.fixture(scope="session")
def or_victim() -> LogisticVictim:
    return LogisticVictim(c_r=C_R)


@pytest.fixture(scope="session")
def flipped_or_target() -> Params:
    """``w = -(1, 1), b = 0.5``: misclassifies every OR point (0 % accuracy)."""
    return Params(w=-np.ones(2), b=np.asarray(0.5))


@pytest.fixture(autouse=True)
def _float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)

"""Users' datasets of the PFL protocol, registered in :data:`bench.registry.pfl_datasets`.

A registered dataset is built with its own parameters (checking that its files exist) and then
asked for :meth:`UserDataset.users`: ``count`` honest users, the strategic user's own clean pool
and, for classifiers, a clean evaluation set, all drawn from the split seed.

* ``synreg``: personalized linear regression (seed 004 Theorem 2), float64;
* ``synlogit``: personalized logistic regression (seed 004 Theorem 3), float64;
* ``mnistusers``: real MNIST digits from the official test set (:mod:`bench.pfl.mnist`), float32;
  ``noisy=0.6`` is the 60 %-random-label stand-in for the seed's noisy Fashion-MNIST, and
  ``active`` the one-active-user, idle-others layout of its Appendix C.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from bench.data.base import DatasetUnavailable
from bench.data.paths import data_root
from bench.pfl.mnist import FILES, mnist_users
from bench.pfl.synthetic import (
    linear_regression_users,
    logistic_regression_users,
    preferred_models,
)
from bench.registry import pfl_datasets

TASKS = ("regression", "binary", "multiclass")
REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class UserData:
    """Honest users' ``(queries, labels)``, the strategic user's clean ``own`` pool, and for
    classifiers an evaluation set with int64 class labels.  ``preferred`` holds the honest users'
    true models theta_n^dagger where the data are synthetic."""

    task: str
    users: list[tuple[Tensor, Tensor]]
    own: tuple[Tensor, Tensor]
    features: int
    classes: int | None = None
    test_queries: Tensor | None = None
    test_labels: Tensor | None = None
    preferred: Tensor | None = None

    @property
    def points(self) -> int:
        """Honest data points in all: sum_n |D_n|."""
        return sum(len(q) for q, _ in self.users)


class UserDataset:
    """Base of the registered datasets: ``task`` and :meth:`users`."""

    task: str

    def users(self, count: int, seed: int) -> UserData:
        raise NotImplementedError


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")


@pfl_datasets.register("synreg", tags={"synthetic", "offline"})
class SyntheticRegression(UserDataset):
    """Personalized linear regression users (seed 004 Theorem 2): theta_n^dagger ~ N(0, spread^2
    I_p), ``points`` Gaussian queries each, labels with N(0, noise^2) noise."""

    task = "regression"

    def __init__(self, features: int = 5, points: int = 50, noise: float = 0.1,
                 spread: float = 1.0) -> None:
        _check_positive(features=features, points=points, spread=spread)
        if not isinstance(features, int) or not isinstance(points, int):
            raise ValueError(f"features and points must be integers, got {features!r}, {points!r}")
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        self.features, self.points, self.noise, self.spread = features, points, noise, spread

    def users(self, count: int, seed: int) -> UserData:
        generator = torch.Generator().manual_seed(seed)
        models = preferred_models(generator, count + 1, self.features, self.spread)
        data = linear_regression_users(generator, models, [self.points] * (count + 1), self.noise)
        return UserData(self.task, data[:count], data[count], self.features,
                        preferred=models[:count])


@pfl_datasets.register("synlogit", tags={"synthetic", "offline"})
class SyntheticLogistic(UserDataset):
    """Personalized logistic regression users (seed 004 Theorem 3): queries uniform on [-1, 1]^p,
    A = +1 with probability sigma(Q^T theta_n^dagger)."""

    task = "binary"

    def __init__(self, features: int = 5, points: int = 50, spread: float = 1.0) -> None:
        _check_positive(features=features, points=points, spread=spread)
        if not isinstance(features, int) or not isinstance(points, int):
            raise ValueError(f"features and points must be integers, got {features!r}, {points!r}")
        self.features, self.points, self.spread = features, points, spread

    def users(self, count: int, seed: int) -> UserData:
        generator = torch.Generator().manual_seed(seed)
        models = preferred_models(generator, count + 1, self.features, self.spread)
        data = logistic_regression_users(generator, models, [self.points] * (count + 1))
        return UserData(self.task, data[:count], data[count], self.features,
                        preferred=models[:count])


def mnist_folder(folder: str | None) -> Path:
    """``folder``, else ``$BYZBENCH_DATA/mnist-t10k``, else the shared copy next to the checkout."""
    candidates = [Path(folder)] if folder else [
        data_root() / "mnist-t10k",
        *(base / "shared" / "datasets" / "mnist-t10k"
          for base in (REPOSITORY.parent, REPOSITORY.parent.parent)),
    ]
    for candidate in candidates:
        if all((candidate / f).is_file() or (candidate / f.removesuffix(".gz")).is_file()
               for f in FILES):
            return candidate
    raise DatasetUnavailable(f"mnistusers: MNIST test files {', '.join(FILES)} not found in "
                             f"{', '.join(str(c) for c in candidates)}")


@lru_cache(maxsize=8)
def _mnist(folder: Path, count: int, per_user: int, test: int, seed: int, noisy: float,
           active: int):
    return mnist_users(folder, count, per_user, test, seed, noisy, active=active)


@pfl_datasets.register("mnistusers", tags={"image", "offline"})
class MnistUserDigits(UserDataset):
    """Real MNIST users from the official test set: ``test`` evaluation digits, ``per_user`` per
    honest user, the rest the attacker's pool; ``noisy`` of the users' labels made random;
    ``active`` > 0: the first user holds that many digits instead (seed 004 App. C.2)."""

    task = "multiclass"

    def __init__(self, per_user: int = 700, test: int = 2000, noisy: float = 0.0,
                 folder: str | None = None, active: int = 0) -> None:
        _check_positive(per_user=per_user, test=test)
        if not 0.0 <= noisy <= 1.0:
            raise ValueError(f"noisy must be a fraction in [0, 1], got {noisy!r}")
        if isinstance(active, bool) or not isinstance(active, int) or active < 0:
            raise ValueError(f"active must be an integer >= 0, got {active!r}")
        self.per_user, self.test, self.noisy, self.active = per_user, test, noisy, active
        self.folder = mnist_folder(folder)

    def users(self, count: int, seed: int) -> UserData:
        split = _mnist(self.folder, count, self.per_user, self.test, seed, self.noisy,
                       self.active)
        return UserData(self.task, split.users, split.own, 28 * 28, 10,
                        split.test_queries, split.test_labels)

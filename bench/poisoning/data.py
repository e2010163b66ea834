"""Data sets of the data-poisoning track (seed 002 §5 and App. C; seed 001 §5), float64 arrays.

Each is registered in the shared :data:`bench.registry.datasets` kind (tag ``poisoning``) under the
name in brackets, so grids and ``pytest -k`` use one name per data set.

- ``or2d`` [or2d]: the 2-D OR set, 4 corners of the unit square x 50 copies + N(0, sigma^2) noise
  (sigma = 0.1; not given in the paper), labels OR(x1, x2) in ±1; the test set is a second draw.
- ``gauss10`` [classification10d]: ``sklearn.datasets.make_classification`` with 1,000 x 10
  (other arguments default), labels ±1, split 800 / 200.
- ``lsq2d`` [lsq2d]: 2-D Gaussian inputs, ``y = <w*, x> + b* + N(0, 0.1^2)`` for least squares
  (C.4).
- ``mnist8k`` [mnist-tt]: real MNIST from the official test set (``shared/datasets/mnist-t10k``
  above the repository), pixels in [0, 1]: a seeded 8,000 / 2,000 train / test split;
  ``validation_split`` cuts the 8,000 into 70 % / 30 % for tuning targets
  (seed 002 §5: the 30 % is never the test set).
- ``squares3`` [squares3]: 3 noisy 8 x 8 prototypes, a tiny multiclass set for the network
  victims' tests and smoke cells (not from the papers).
- ``mnist17`` [mnist17]: the test set's 2,163 ones and sevens (labels 7 -> +1, 1 -> -1), split
  deterministically 80 / 20 (seed 001 used 13,007 training digits, which are not available).
- ``cifar10_pixels`` [cifar10-pixels]: CIFAR-10 as flattened pixels in [0, 1] (the
  ``rawcifar10`` images of ``$BYZBENCH_DATA``: the binary release or the JPEG folders),
  50,000 / 10,000 (seed 002 §5.1); ``train`` / ``test`` keep a seeded subset of each, for small
  runs.  Unavailable (cases skip) exactly when ``rawcifar10`` is.

Every data set is deterministic from its seed and refuses a training set with one class.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.data.base import DatasetUnavailable
from bench.data.idx import read_idx
from bench.registry import datasets

TASKS = ("binary", "multiclass", "regression")


def shared_mnist_folder() -> Path:
    """``$BYZBENCH_MNIST_T10K``, else the first ``shared/datasets/mnist-t10k`` above the repo."""
    env = os.environ.get("BYZBENCH_MNIST_T10K")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents[2:]:
        candidate = parent / "shared" / "datasets" / "mnist-t10k"
        if candidate.is_dir():
            return candidate
    raise MnistMissing("no shared/datasets/mnist-t10k above the repository; set "
                       "BYZBENCH_MNIST_T10K")


class DataError(ValueError):
    """A data set that cannot be used (one class, wrong shapes, missing files)."""


class MnistMissing(DatasetUnavailable):
    """The MNIST test files are not on disk (cases needing them skip with this reason; not a
    ValueError, so the registry passes it on unwrapped)."""


@dataclass(frozen=True)
class PoisonData:
    """Train / test arrays, the task, and the feature box poisons are projected on."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"{self.name}: task {self.task!r} is not one of {TASKS}")
        for split, x, y in (("train", self.x_train, self.y_train),
                            ("test", self.x_test, self.y_test)):
            if x.ndim != 2 or y.shape != (x.shape[0],):
                raise DataError(f"{self.name}: {split} x {x.shape} and y {y.shape} do not fit")
        if self.task != "regression" and np.unique(self.y_train).size < 2:
            raise DataError(f"{self.name}: y_train has a single class {np.unique(self.y_train)}")

    @property
    def classes(self) -> int:
        return 0 if self.task == "regression" else int(np.unique(self.y_train).size)

    def validation_split(self, fraction: float = 0.3, seed: int = 0) -> PoisonData:
        """The training set cut into (1 - fraction) train / fraction validation, as test."""
        if not 0 < fraction < 1:
            raise DataError(f"fraction must lie in (0, 1), got {fraction}")
        order = np.random.default_rng(seed).permutation(len(self.y_train))
        cut = round(len(order) * (1 - fraction))
        tr, va = order[:cut], order[cut:]
        return PoisonData(f"{self.name}-val", self.x_train[tr], self.y_train[tr],
                          self.x_train[va], self.y_train[va], self.task, self.lower, self.upper)


def or_points(seed: int, copies: int = 50, sigma: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    x = np.repeat(corners, copies, axis=0)
    y = np.where(x.sum(axis=1) > 0, 1.0, -1.0)
    return x + np.random.default_rng(seed).normal(scale=sigma, size=x.shape), y


@datasets.register("or2d", tags={"poisoning", "synthetic"})
def or2d(seed: int = 0, sigma: float = 0.1) -> PoisonData:
    """The 2-D OR set: 4 x 50 noisy corners, OR labels in ±1 (seed 002 §5, Fig. 1)."""
    x, y = or_points(seed, sigma=sigma)
    xt, yt = or_points(seed + 1, sigma=sigma)
    return PoisonData("or2d", x, y, xt, yt, "binary")


@datasets.register("classification10d", tags={"poisoning", "synthetic"})
def gauss10(seed: int = 0) -> PoisonData:
    """``make_classification(1000, 10)`` with labels ±1, split 800 / 200 (seed 002 Fig. 2)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=1000, n_features=10, random_state=seed)
    y = np.where(y == 1, 1.0, -1.0)
    return PoisonData("gauss10", x[:800], y[:800], x[800:], y[800:], "binary")


@datasets.register("lsq2d", tags={"poisoning", "synthetic", "regression"})
def lsq2d(seed: int = 0, n: int = 200) -> PoisonData:
    """2-D Gaussian least-squares data ``y = x . (1, -2) + 0.5 + noise`` (seed 002 App. C.4)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * n, 2))
    y = x @ np.array([1.0, -2.0]) + 0.5 + rng.normal(scale=0.1, size=2 * n)
    return PoisonData("lsq2d", x[:n], y[:n], x[n:], y[n:], "regression")


def mnist_test_digits(folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 official MNIST test digits as float64 ``[N, 784]`` in [0, 1] and int labels
    (read-only arrays, decoded once per folder and process: grids validate every case)."""
    folder = shared_mnist_folder() if folder is None else folder
    images, labels = folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    for path in (images, labels):
        if not path.exists():
            raise MnistMissing(f"MNIST test file missing: {path}")
    return _decoded(images, labels, images.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _decoded(images: Path, labels: Path, stamp: int) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(images).numpy().reshape(-1, 784).astype(np.float64) / 255.0
    y = read_idx(labels).numpy().astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


@datasets.register("mnist-tt", tags={"poisoning", "image"})
def mnist8k(seed: int = 0, folder: Path | None = None) -> PoisonData:
    """Real MNIST, 10 classes: a seeded 8,000 / 2,000 split of the official test set."""
    x, y = mnist_test_digits(folder)
    order = np.random.default_rng(seed).permutation(len(y))
    tr, te = order[:8000], order[8000:]
    return PoisonData("mnist8k", x[tr], y[tr], x[te], y[te], "multiclass", 0.0, 1.0)


@datasets.register("mnist17", tags={"poisoning", "image"})
def mnist17(seed: int = 0, folder: Path | None = None) -> PoisonData:
    """MNIST 1 vs 7 from the test set (2,163 digits), 7 -> +1, split 80 / 20 by seed."""
    x, y = mnist_test_digits(folder)
    keep = np.isin(y, (1, 7))
    x, y = x[keep], np.where(y[keep] == 7, 1.0, -1.0)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = round(0.8 * len(y))
    tr, te = order[:cut], order[cut:]
    return PoisonData("mnist17", x[tr], y[tr], x[te], y[te], "binary", 0.0, 1.0)


@datasets.register("squares3", tags={"poisoning", "synthetic", "image"})
def squares3(seed: int = 0, n: int = 90, side: int = 8, sigma: float = 0.15) -> PoisonData:
    """A tiny 3-class image set for the network victims (not from the papers): ``side x side``
    images around 3 fixed uniform [0, 1] prototypes (seed 99) + N(0, sigma^2) noise, clipped to
    [0, 1]; ``n`` train and ``n`` test images, labels ``i mod 3``."""
    prototypes = np.random.default_rng(99).uniform(0.0, 1.0, size=(3, side * side))
    rng = np.random.default_rng(seed)

    def draw() -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 3
        noise = rng.normal(scale=sigma, size=(n, side * side))
        return np.clip(prototypes[y] + noise, 0.0, 1.0), y

    (x, y), (xt, yt) = draw(), draw()
    return PoisonData("squares3", x, y, xt, yt, "multiclass", 0.0, 1.0)


@datasets.register("cifar10-pixels", tags={"poisoning", "image"})
def cifar10_pixels(seed: int = 0, train: int | None = None,
                   test: int | None = None) -> PoisonData:
    """CIFAR-10, 10 classes, flattened ``3 x 32 x 32`` pixels in [0, 1]; optional seeded
    subsets of ``train`` and ``test`` images."""
    images = datasets.make("rawcifar10")
    rng = np.random.default_rng(seed)

    def subset(x, y, size: int | None, split: str) -> tuple[np.ndarray, np.ndarray]:
        if size is not None and not 1 <= size <= len(y):
            raise DataError(f"cifar10-pixels: {split} must lie in [1, {len(y)}], got {size}")
        keep = np.arange(len(y)) if size is None else np.sort(rng.permutation(len(y))[:size])
        flat = x.reshape(x.shape[0], -1)[keep].numpy().astype(np.float64)
        return flat, y[keep].numpy().astype(np.int64)

    x_tr, y_tr = subset(images.x_train, images.y_train, train, "train")
    x_te, y_te = subset(images.x_test, images.y_test, test, "test")
    return PoisonData("cifar10-pixels", x_tr, y_tr, x_te, y_te, "multiclass", 0.0, 1.0)

"""Datasets whose inputs are raw pixels in [0, 1], for the online-poisoning track (seed 000).

The perturbations of :mod:`bench.online.perturb` project into the box [0, 1] (seed 000 §B.2, the
ε = 8/255 budgets are pixel levels), so the stream must see unstandardised pixels, while the FL
track's ``digits`` and ``mnist`` are standardised.  These two load the same images through
:mod:`bench.data` and undo only the standardisation:

* ``rawdigits``: scikit-learn's 8x8 digits, ``x / 16`` (64 features), the same seeded split as
  ``digits`` (so the same images are train and test);
* ``rawmnist``: ``mnist`` mapped back by ``x · 0.3081 + 0.1307`` (clamped to [0, 1] against
  float rounding), images ``[N, 1, 28, 28]``; it is unavailable exactly when ``mnist`` is;
* ``rawcifar10``: ``cifar10`` (the binary release or the JPEG ``ImageFolder`` copy) mapped back
  per channel by ``x · std_c + mean_c``, images ``[N, 3, 32, 32]`` (seed 000 Table 1).  The
  stream feeds batches as they are: the crop-and-flip augmentation of ``cifar10`` is not applied.

Both carry the tag ``pixels`` that the ``online`` protocol requires of its dataset.
"""

from __future__ import annotations

import torch

from bench.data.base import TensorData
from bench.data.vision import CIFAR10_STATS
from bench.registry import datasets

MNIST_STATS = (0.1307, 0.3081)


@datasets.register("rawdigits", tags={"offline", "image", "pixels"})
def rawdigits(test_fraction: float = 0.2, seed: int = 0) -> TensorData:
    """scikit-learn's 8x8 digits as pixels in [0, 1] (``x / 16``), split like ``digits``."""
    from sklearn.datasets import load_digits

    standard = datasets.make("digits", test_fraction=test_fraction, seed=seed)
    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32) / 16.0
    y = torch.tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    n_test = int(round(x.shape[0] * test_fraction))
    test, train = order[:n_test], order[n_test:]
    if not (torch.equal(y[train], standard.y_train) and torch.equal(y[test], standard.y_test)):
        raise RuntimeError("rawdigits: split no longer matches the digits dataset's")
    return TensorData("rawdigits", x[train], y[train], x[test], y[test], 10)


@datasets.register("rawmnist", tags={"image", "download", "pixels"})
def rawmnist() -> TensorData:
    """MNIST as pixels in [0, 1]: the ``mnist`` dataset with its standardisation undone."""
    standard = datasets.make("mnist")
    mean, std = MNIST_STATS

    def pixels(x: torch.Tensor) -> torch.Tensor:
        return (x * std + mean).clamp(0.0, 1.0)

    return TensorData("rawmnist", pixels(standard.x_train), standard.y_train,
                      pixels(standard.x_test), standard.y_test, 10)


@datasets.register("rawcifar10", tags={"image", "download", "pixels"})
def rawcifar10() -> TensorData:
    """CIFAR-10 as pixels in [0, 1]: the ``cifar10`` dataset with its standardisation undone."""
    standard = datasets.make("cifar10")
    mean = torch.tensor(CIFAR10_STATS[0]).view(1, -1, 1, 1)
    std = torch.tensor(CIFAR10_STATS[1]).view(1, -1, 1, 1)

    def pixels(x: torch.Tensor) -> torch.Tensor:
        return (x * std + mean).clamp(0.0, 1.0)

    return TensorData("rawcifar10", pixels(standard.x_train), standard.y_train,
                      pixels(standard.x_test), standard.y_test, 10)

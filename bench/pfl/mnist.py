"""Real MNIST users for the PFL track, from the official MNIST test set (seed 004 §5, E2).

The seed uses 10 honest users x 6,000 MNIST training digits; only the 10,000 test digits exist
here (``../shared/datasets/mnist-t10k``), so a seeded permutation splits them into an evaluation
set (default 2,000), 10 honest users x 700 digits, and the strategic user's own clean pool (the
remaining 1,000).  Pixels are scaled to [0, 1] and flattened (p = 784); labels are one-hot.
``noisy=0.6`` replaces that fraction of the users' training labels by uniform random classes (the
stand-in for the seed's 60 %-noisy Fashion-MNIST of Appendix C.2; evaluation labels stay clean).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from bench.data.base import DatasetUnavailable
from bench.data.idx import read_idx

FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
CLASSES = 10


@dataclass(frozen=True)
class MnistUsers:
    """Honest users' (queries, one-hot labels), the attacker's clean pool, the evaluation set."""

    users: list[tuple[Tensor, Tensor]]
    own: tuple[Tensor, Tensor]
    test_queries: Tensor
    test_labels: Tensor


def _read(folder: Path, name: str) -> Tensor:
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return read_idx(candidate)
    raise DatasetUnavailable(f"mnist-t10k: {folder} lacks {name} (expected {', '.join(FILES)})")


def mnist_users(
    folder: str | Path, users: int = 10, per_user: int = 700, test: int = 2000, seed: int = 0,
    noisy: float = 0.0, dtype: torch.dtype = torch.float32,
) -> MnistUsers:
    """Split the MNIST test set in ``folder`` as described in the module docstring."""
    if users < 1 or per_user < 1 or test < 1:
        raise ValueError(f"users, per_user and test must be >= 1; got {users}, {per_user}, {test}")
    if not 0.0 <= noisy <= 1.0:
        raise ValueError(f"noisy must be a fraction in [0, 1], got {noisy}")
    folder = Path(folder)
    images = _read(folder, FILES[0]).reshape(-1, 28 * 28).to(dtype) / 255.0
    labels = _read(folder, FILES[1]).long()
    if test + users * per_user >= len(labels):
        raise ValueError(f"test + users * per_user = {test + users * per_user} leaves no pool "
                         f"out of {len(labels)} digits")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    images, labels = images[order], labels[order]
    train_labels = labels[test:].clone()
    flip = torch.rand(len(train_labels), generator=generator) < noisy
    random_labels = torch.randint(CLASSES, (len(train_labels),), generator=generator)
    train_labels[flip] = random_labels[flip]
    onehot = torch.nn.functional.one_hot(train_labels, CLASSES).to(dtype)
    train_images = images[test:]
    parts = [
        (train_images[n * per_user : (n + 1) * per_user], onehot[n * per_user : (n + 1) * per_user])
        for n in range(users)
    ]
    rest = users * per_user
    return MnistUsers(parts, (train_images[rest:], onehot[rest:]), images[:test], labels[:test])

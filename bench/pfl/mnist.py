"""Real MNIST users for the PFL track, from the official MNIST test set (seed 004 §5, E2).

The seed uses 10 honest users x 6,000 MNIST training digits; only the 10,000 test digits exist
here (``../shared/datasets/mnist-t10k``), so a seeded permutation splits them into an evaluation
set (default 2,000), 10 honest users x 700 digits, and the strategic user's own clean pool (the
remaining 1,000).  Pixels are scaled to [0, 1] and flattened (p = 784); labels are one-hot.
``noisy=0.6`` replaces that fraction of the users' training labels by uniform random classes (the
stand-in for the seed's 60 %-noisy Fashion-MNIST of Appendix C.2; evaluation labels stay clean).
``active`` gives Appendix C.2's layout: one "active" user with many digits (the seed: 60,000)
and "idle" users with ``per_user`` each (the seed: 10).
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
    noisy: float = 0.0, dtype: torch.dtype = torch.float32, active: int = 0,
) -> MnistUsers:
    """Split the MNIST test set in ``folder`` as described in the module docstring; with
    ``active`` > 0 the first user holds ``active`` digits and the others ``per_user`` each."""
    if users < 1 or per_user < 1 or test < 1 or active < 0:
        raise ValueError(f"users, per_user and test must be >= 1 and active >= 0; got {users}, "
                         f"{per_user}, {test}, {active}")
    sizes = [active, *[per_user] * (users - 1)] if active else [per_user] * users
    if not 0.0 <= noisy <= 1.0:
        raise ValueError(f"noisy must be a fraction in [0, 1], got {noisy}")
    folder = Path(folder)
    images = _read(folder, FILES[0]).reshape(-1, 28 * 28).to(dtype) / 255.0
    labels = _read(folder, FILES[1]).long()
    if test + sum(sizes) >= len(labels):
        raise ValueError(f"test + the users' digits = {test + sum(sizes)} leaves no pool "
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
    ends = torch.tensor(sizes).cumsum(0).tolist()
    parts = [(train_images[end - size : end], onehot[end - size : end])
             for size, end in zip(sizes, ends, strict=True)]
    rest = ends[-1]
    return MnistUsers(parts, (train_images[rest:], onehot[rest:]), images[:test], labels[:test])

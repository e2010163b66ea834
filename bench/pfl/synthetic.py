r"""Synthetic personalized regression users (seed 004 Theorems 2 and 3).

Each user n has a preferred model theta_n^dagger ~ N(centre, spread^2 I) and I_n queries.

* Linear regression (Theorem 2): Q ~ N(0, I_p) (sub-Gaussian, E[QQ^T] = I),
  A = Q^T theta^dagger + xi,
  xi ~ N(0, noise^2) independent.
* Logistic regression (Theorem 3): Q uniform on [-1, 1]^p (bounded support spanning R^p, origin
  inside), A = +1 with probability sigma(Q^T theta^dagger), else -1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def preferred_models(
    generator: torch.Generator, users: int, features: int, spread: float = 1.0,
    centre: Tensor | None = None, dtype: torch.dtype = torch.float64,
) -> Tensor:
    """theta_n^dagger for ``users`` users, ``[users, features]``."""
    if users < 1 or features < 1 or spread < 0:
        raise ValueError(f"need users >= 1, features >= 1, spread >= 0; got {users}, {features}, "
                         f"{spread}")
    base = torch.zeros(features, dtype=dtype) if centre is None else centre.to(dtype)
    return base + spread * torch.randn(users, features, generator=generator, dtype=dtype)


def linear_regression_users(
    generator: torch.Generator, models: Tensor, sizes: Sequence[int], noise: float = 0.1,
) -> list[tuple[Tensor, Tensor]]:
    """One (Q [I_n, p], A [I_n]) per row of ``models`` with Gaussian queries and label noise."""
    _check(models, sizes, noise)
    data = []
    for model, size in zip(models, sizes, strict=True):
        queries = torch.randn(size, models.shape[1], generator=generator, dtype=models.dtype)
        labels = queries @ model
        labels = labels + noise * torch.randn(size, generator=generator, dtype=models.dtype)
        data.append((queries, labels))
    return data


def logistic_regression_users(
    generator: torch.Generator, models: Tensor, sizes: Sequence[int],
) -> list[tuple[Tensor, Tensor]]:
    """One (Q [I_n, p], A [I_n] in {-1, +1}) per row of ``models``, Q uniform on [-1, 1]^p."""
    _check(models, sizes, 0.0)
    data = []
    for model, size in zip(models, sizes, strict=True):
        shape = (size, models.shape[1])
        queries = 2.0 * torch.rand(shape, generator=generator, dtype=models.dtype) - 1.0
        draw = torch.rand(size, generator=generator, dtype=models.dtype)
        labels = torch.where(draw < torch.sigmoid(queries @ model), 1.0, -1.0).to(models.dtype)
        data.append((queries, labels))
    return data


def _check(models: Tensor, sizes: Sequence[int], noise: float) -> None:
    if models.dim() != 2 or len(sizes) != models.shape[0]:
        raise ValueError(f"models must be [users, p] with one size each; got "
                         f"{tuple(models.shape)} and {len(sizes)} sizes")
    if min(sizes) < 1 or noise < 0:
        raise ValueError(f"sizes must be >= 1 and noise >= 0; got {list(sizes)}, {noise}")

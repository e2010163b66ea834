"""A small 2-D binary set in the unit box: seed 001's attacks in seconds (smoke tier).

``n`` training and ``n`` test points uniform in [0, 1]^2, labelled ``sign(x_1 + x_2 - 1 +
0.1 z)`` with ``z ~ N(0, 1)`` (a noisy diagonal boundary).  The feature box [0, 1] is the set
poisons are searched in, like MNIST pixels (seed 001 §5); seed 001's own code ships a 2-D toy
set whose generator is not described, so this one is ours.
"""

from __future__ import annotations

import numpy as np

from bench.poisoning.data import DataError, PoisonData
from bench.registry import datasets


def box_points(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 2))
    return x, np.where(x.sum(axis=1) - 1 + 0.1 * rng.normal(size=n) > 0, 1.0, -1.0)


@datasets.register("box2d", tags={"poisoning", "synthetic"})
def box2d(seed: int = 0, n: int = 100) -> PoisonData:
    """2-D points in [0, 1]^2 with a noisy diagonal boundary, labels ±1, n train / n test."""
    if isinstance(n, bool) or int(n) != n or n < 10:
        raise DataError(f"box2d: n must be an integer >= 10, got {n!r}")
    x, y = box_points(2 * seed, int(n))
    xt, yt = box_points(2 * seed + 1, int(n))
    return PoisonData("box2d", x, y, xt, yt, "binary", 0.0, 1.0)

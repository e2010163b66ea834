"""Random label flips on a subpopulation (Jagielski et al. 2019; seed 001 Table 7)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.poisoning.random_flips import FlipError, cluster_members, random_flips

pytestmark = pytest.mark.uses("subflips")


def indexed_set(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Feature 0 is the point's index, so a draw can be traced back to its source."""
    X = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    return X, np.where(np.arange(n) % 3 == 0, 1.0, -1.0)


def test_draws_come_from_the_subpopulation_with_labels_negated() -> None:
    X, y = indexed_set()
    members = np.array([2, 5, 7, 11, 13])
    px, py = random_flips(X, y, members, 4, seed=0)
    idx = px[:, 0].astype(int)
    assert set(idx) <= set(members) and len(set(idx)) == 4      # no repeats while possible
    np.testing.assert_array_equal(py, -y[idx])


def test_budget_above_the_subpopulation_repeats_every_member_evenly() -> None:
    X, y = indexed_set()
    members = np.array([1, 4, 9])
    px, _ = random_flips(X, y, members, 8, seed=1)
    counts = np.bincount(px[:, 0].astype(int), minlength=10)[members]
    assert counts.sum() == 8 and counts.min() == 2 and counts.max() == 3


def test_same_seed_same_draw_other_seed_other_draw() -> None:
    X, y = indexed_set()
    members = np.arange(30)
    a, _ = random_flips(X, y, members, 10, seed=4)
    b, _ = random_flips(X, y, members, 10, seed=4)
    c, _ = random_flips(X, y, members, 10, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_clusters_partition_the_training_set() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.05, size=(10, 2)) for c in (0.0, 1.0, 2.0)])
    np.testing.assert_array_equal(cluster_members(X, 1, 0, seed=0), np.arange(30))
    parts = [cluster_members(X, 3, k, seed=0) for k in range(3)]
    assert sorted(np.concatenate(parts).tolist()) == list(range(30))
    # Well separated blobs: each cluster is exactly one blob of ten.
    assert sorted(tuple(sorted(set(p // 10))) for p in parts) == [(0,), (1,), (2,)]


@pytest.mark.parametrize("budget", [0, 1.5, True], ids=["zero", "fraction", "bool"])
def test_bad_budget_raises(budget) -> None:
    X, y = indexed_set()
    with pytest.raises(FlipError, match="budget"):
        random_flips(X, y, np.arange(3), budget, seed=0)


def test_bad_cluster_and_labels_raise() -> None:
    X, y = indexed_set()
    with pytest.raises(FlipError, match="cluster"):
        cluster_members(X, 3, 3, seed=0)
    with pytest.raises(FlipError, match="binary"):
        random_flips(X, np.arange(30.0), np.arange(3), 2, seed=0)
    with pytest.raises(FlipError, match="empty"):
        random_flips(X, y, np.array([], dtype=int), 2, seed=0)

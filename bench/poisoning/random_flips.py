"""Random label-flipping subpopulation attack (Jagielski et al. 2019; seed 001 Table 7).

The attacker samples ``budget`` training points of the subpopulation uniformly at random, flips
their labels and adds them: ``D_p = {(x_i, -y_i)}``.  Points are drawn without replacement
while the subpopulation has them left, then again from a fresh permutation (a budget larger
than the subpopulation repeats points, as seed 001's budgets above 10 % of Adult do).

The subpopulation is one k-means cluster of the training features (ClusterMatch, seed 001
§P1.7: k = 20 on Adult), or the whole training set for ``clusters = 1`` (indiscriminate).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


class FlipError(ValueError):
    """Bad input to the random flip attack (budget, cluster, empty subpopulation)."""


def cluster_members(X: np.ndarray, clusters: int, cluster: int, seed: int) -> np.ndarray:
    """Indices of the training points in k-means cluster ``cluster`` of ``clusters``."""
    if clusters < 1 or not 0 <= cluster < clusters:
        raise FlipError(f"cluster must lie in [0, clusters) with clusters >= 1, got cluster "
                        f"{cluster} of {clusters}")
    if clusters == 1:
        return np.arange(len(X))
    labels = KMeans(n_clusters=clusters, n_init=4, random_state=seed).fit_predict(X)
    members = np.flatnonzero(labels == cluster)
    if len(members) == 0:
        raise FlipError(f"k-means cluster {cluster} of {clusters} is empty")
    return members


def random_flips(X: np.ndarray, y: np.ndarray, members: np.ndarray, budget: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``budget`` seeded draws from ``members`` (indices into ``X``) with their labels negated."""
    if isinstance(budget, bool) or int(budget) != budget or budget < 1:
        raise FlipError(f"budget must be an integer >= 1, got {budget!r}")
    if len(members) == 0:
        raise FlipError("the subpopulation is empty")
    if not np.all(np.isin(y[members], (-1.0, 1.0))):
        raise FlipError("random flips need binary labels in {-1, +1}")
    rng = np.random.default_rng(seed)
    rounds = -(-int(budget) // len(members))
    order = np.concatenate([rng.permutation(members) for _ in range(rounds)])[:int(budget)]
    return X[order].copy(), -y[order]

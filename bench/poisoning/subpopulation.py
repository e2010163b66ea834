"""Subpopulation poisoning (seed 001 §5, Table 1) on a k-means cluster, with its target.

Seed 001 attacks subpopulations of Adult: ClusterMatch (Jagielski et al. 2019) clusters the
training features with k-means (k = 20), keeps each cluster's points of one class ("<= 50K"),
and the attack's goal is a model with 0 % accuracy on the chosen subpopulation, scored on the
subpopulation's test points.  Adult is not on these machines, so the data set ``clusterpop`` builds
the same task on any binary data set of the track (by default MNIST 1-7, the images of ones) and
says so in its name: it is a **substitute**, not seed 001's Adult experiment.

- :func:`subpopulation_members`: the training indices of a subpopulation, i.e. the points of
  class ``label`` in k-means cluster number ``rank`` when clusters are ordered by how many
  training points of that class they hold (largest first; seed 001 ranks by the clean model's
  subpopulation accuracy, which needs a victim, so this order is our choice);
- data set ``clusterpop``: the base set with its test split restricted to the subpopulation's test
  points (nearest k-means centre, same class), so every accuracy the ``retrain`` protocol
  reports is the subpopulation accuracy;
- target ``clusterpop``: the victim retrained on ``D_c`` plus ``repeat`` flipped copies of the
  subpopulation's training points, for the smallest repeat count in seed 001's repeat tape whose
  training-subpopulation error reaches ``goal`` (default 1.0: the 0 % accuracy target).  A larger
  repeat only raises the regularised clean loss, so the smallest repeat that meets the goal is
  the one the seed's rule (lowest clean loss among candidates meeting the goal) selects.

The clustering parameters of the target must equal the data set's; the protocol checks it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import KMeans
from torch import Tensor

from bench.poisoning.convex import ConvexVictim
from bench.poisoning.data import DataError, PoisonData
from bench.poisoning.objective import Objective, ParamDict, params_to_torch
from bench.poisoning.target_heuristic import REPEATS
from bench.poisoning.targets import TargetError, cached, fingerprint
from bench.registry import datasets, targets
from bench.scenario import Component


@dataclass(frozen=True)
class Clustering:
    """Which subpopulation: class ``label`` of the ``rank``-th largest of ``clusters`` k-means
    clusters (fitted with ``cluster_seed`` on the training features)."""

    clusters: int = 20
    rank: int = 0
    label: float = -1.0
    cluster_seed: int = 0

    def __post_init__(self) -> None:
        if self.clusters < 2:
            raise DataError(f"clusters must be >= 2, got {self.clusters}")
        if not 0 <= self.rank < self.clusters:
            raise DataError(f"rank must lie in [0, clusters={self.clusters}), got {self.rank}")
        if self.label not in (-1.0, 1.0):
            raise DataError(f"label must be -1 or +1 (a binary data set's class), got "
                            f"{self.label}")


_KMEANS: dict[tuple[str, int, int], KMeans] = {}


def _fitted(X: np.ndarray, clustering: Clustering) -> KMeans:
    """k-means on the training features, once per process for each data set and clustering."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    key = (fingerprint(X), clustering.clusters, clustering.cluster_seed)
    if key not in _KMEANS:
        _KMEANS[key] = KMeans(n_clusters=clustering.clusters, n_init=4,
                              random_state=clustering.cluster_seed).fit(X)
    return _KMEANS[key]


def _chosen_cluster(X: np.ndarray, y: np.ndarray, clustering: Clustering) -> int:
    labels = _fitted(X, clustering).labels_
    counts = np.bincount(labels[y == clustering.label], minlength=clustering.clusters)
    order = sorted(range(clustering.clusters), key=lambda c: (-counts[c], c))
    chosen = order[clustering.rank]
    if counts[chosen] == 0:
        raise DataError(f"k-means cluster of rank {clustering.rank} of {clustering.clusters} "
                        f"holds no training point of class {clustering.label:+g}")
    return chosen


def subpopulation_members(X: np.ndarray, y: np.ndarray, clustering: Clustering) -> np.ndarray:
    """Training indices of the subpopulation ``clustering`` names (sorted)."""
    chosen = _chosen_cluster(X, y, clustering)
    labels = _fitted(X, clustering).labels_
    return np.flatnonzero((labels == chosen) & (y == clustering.label))


def restrict_to_subpopulation(data: PoisonData, clustering: Clustering) -> PoisonData:
    """``data`` with its test split cut to the subpopulation's test points (nearest centre)."""
    if data.task != "binary":
        raise DataError(f"a subpopulation needs a binary data set, {data.name} is {data.task}")
    chosen = _chosen_cluster(data.x_train, data.y_train, clustering)
    assigned = _fitted(data.x_train, clustering).predict(
        np.ascontiguousarray(data.x_test, dtype=np.float64))
    keep = (assigned == chosen) & (data.y_test == clustering.label)
    if not keep.any():
        raise DataError(f"the subpopulation (cluster rank {clustering.rank}, class "
                        f"{clustering.label:+g}) has no test point in {data.name}")
    name = f"{data.name}-clusterpop{clustering.rank}of{clustering.clusters}"
    return PoisonData(name, data.x_train, data.y_train, data.x_test[keep], data.y_test[keep],
                      data.task, data.lower, data.upper)


@datasets.register("clusterpop", tags={"poisoning", "subpopulation", "substitute"})
def subpopulation_set(base: str = "mnist17", clusters: int = 20, rank: int = 0,
                      label: float = -1.0, cluster_seed: int = 0, seed: int = 0) -> PoisonData:
    """A k-means subpopulation of the binary set ``base`` (a substitute for seed 001's Adult):
    the test split holds only the subpopulation's test points."""
    if base == "clusterpop":
        raise DataError("base must name another data set, not clusterpop")
    data = datasets.make(base, seed=seed)
    if not isinstance(data, PoisonData):
        raise DataError(f"base {base!r} is not a data set of the poisoning track")
    return restrict_to_subpopulation(data, Clustering(clusters, rank, label, cluster_seed))


@targets.register("clusterpop", tags={"label-flip", "subpopulation"})
@dataclass(frozen=True)
class SubpopulationTarget:
    """The subpopulation's label-flip target (seed 001 §5): the smallest repeat of flipped
    subpopulation points whose training-subpopulation error reaches ``goal``."""

    goal: float = 1.0
    clusters: int = 20
    rank: int = 0
    label: float = -1.0
    cluster_seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.goal <= 1:
            raise TargetError(f"goal must be an error in (0, 1], got {self.goal!r}")
        Clustering(self.clusters, self.rank, self.label, self.cluster_seed)

    @property
    def clustering(self) -> Clustering:
        return Clustering(self.clusters, self.rank, self.label, self.cluster_seed)

    def check_dataset(self, spec: Component) -> None:
        """The data set must be a ``clusterpop`` set with this target's clustering."""
        if spec.name != "clusterpop":
            raise TargetError(f"the clusterpop target needs the clusterpop data set, not "
                              f"{spec.name!r}")
        theirs = Clustering(**{k: v for k, v in spec.params.items()
                               if k in asdict(self.clustering)})
        if theirs != self.clustering:
            raise TargetError(f"the clusterpop target's clustering {asdict(self.clustering)} "
                              f"differs from the data set's {asdict(theirs)}")

    def build(self, objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
              victim: ConvexVictim | None, seed: int) -> ParamDict:
        if victim is None:
            raise TargetError("the clusterpop target needs a convex victim to retrain")
        X, Y = x.detach().cpu().double().numpy(), y.detach().cpu().double().numpy()
        key = ("clusterpop", self, repr(victim), fingerprint(X, Y))
        return cached(key, lambda: params_to_torch(self._search(victim, X, Y)))

    def _search(self, victim: ConvexVictim, X: np.ndarray, Y: np.ndarray):
        members = subpopulation_members(X, Y, self.clustering)
        reference, best = victim.fit(X, Y), 0.0
        for repeat in REPEATS:
            params = victim.fit(X, Y, extra_X=X[members], extra_y=-Y[members],
                                extra_weights=np.full(len(members), float(repeat)),
                                init=reference)
            error = 1.0 - victim.accuracy(params, X[members], Y[members])
            if error >= self.goal:
                return params
            reference, best = params, max(best, error)
        raise TargetError(f"no repeat in {REPEATS} of the {len(members)} flipped subpopulation "
                          f"points reaches error {self.goal}; the largest is {best:.4f}")

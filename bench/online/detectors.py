"""Feature-space detectors of seed 000 (Appendix B.3), fitted on penultimate-layer features.

Every detector is fitted on *correctly classified* training features only (``predictions ==
labels``) and scores a batch of features with a *normality* score: lower means more anomalous
(seed 000 uses ``-LID`` for this reason).  :func:`auroc` turns clean and poisoned scores into the
area under the ROC curve of flagging the poisoned ones (our metric; the appendix names none).
"""

from __future__ import annotations

import math

import torch
from scipy.stats import rankdata
from torch import Tensor

from bench.registry import detectors


class FeatureDetector:
    """``fit(features, labels, predictions)`` then ``score(features, predictions) -> Tensor[B]``."""

    name = "detector"

    def fit(self, features: Tensor, labels: Tensor, predictions: Tensor) -> FeatureDetector:
        if features.dim() != 2 or labels.shape != features.shape[:1] \
                or predictions.shape != labels.shape:
            raise ValueError(
                f"{self.name}: features must be Tensor[N, D] with labels and predictions Tensor[N],"
                f" got {tuple(features.shape)}, {tuple(labels.shape)}, {tuple(predictions.shape)}"
            )
        correct = predictions == labels
        if not bool(correct.any()):
            raise ValueError(
                f"{self.name}: fitted on no correctly classified feature (predictions never "
                f"equal labels among {features.shape[0]} features)"
            )
        self.dims = features.shape[1]
        self.fit_correct(features[correct].double(), labels[correct])
        return self

    def score(self, features: Tensor, predictions: Tensor) -> Tensor:
        if not hasattr(self, "dims"):
            raise ValueError(f"{self.name}: score called before fit")
        if features.dim() != 2 or features.shape[1] != self.dims \
                or predictions.shape != features.shape[:1]:
            raise ValueError(
                f"{self.name}: features must be Tensor[B, {self.dims}] with predictions Tensor[B],"
                f" got {tuple(features.shape)} and {tuple(predictions.shape)}"
            )
        return self.score_fitted(features.double(), predictions)

    def fit_correct(self, features: Tensor, labels: Tensor) -> None:
        raise NotImplementedError

    def score_fitted(self, features: Tensor, predictions: Tensor) -> Tensor:
        raise NotImplementedError


@detectors.register("kde")
class KernelDensity(FeatureDetector):
    """Kernel density (Feinman et al. 2017; seed 000 §B.3), ``sigma = 1e-2``, 1,000 per class.

    ``score(z) = log( (1/|X_c|) Σ_{z_i ∈ X_c} exp(-||z - z_i||^2 / sigma^2) )`` with ``c`` the
    predicted class and ``X_c`` the first ``per_class`` correctly classified training features of
    class ``c``.  The log (taken by log-sum-exp) ranks like the density itself and does not
    underflow at ``sigma = 1e-2``; a class without stored features scores ``-inf``.
    """

    name = "kde"

    def __init__(self, sigma: float = 1e-2, per_class: int = 1000) -> None:
        if not sigma > 0:
            raise ValueError(f"kde: sigma must be > 0, got {sigma}")
        if per_class < 1:
            raise ValueError(f"kde: per_class must be >= 1, got {per_class}")
        self.sigma, self.per_class = float(sigma), int(per_class)

    def fit_correct(self, features: Tensor, labels: Tensor) -> None:
        self.stored = {int(c): features[labels == c][: self.per_class] for c in labels.unique()}

    def score_fitted(self, features: Tensor, predictions: Tensor) -> Tensor:
        out = torch.full((features.shape[0],), -math.inf, dtype=torch.float64)
        for c, stored in self.stored.items():
            rows = predictions == c
            if bool(rows.any()):
                sq = torch.cdist(features[rows], stored).square()
                out[rows] = torch.logsumexp(-sq / self.sigma**2, dim=1) - math.log(len(stored))
        return out


@detectors.register("lid-mle")
class LocalIntrinsicDimensionality(FeatureDetector):
    """Local intrinsic dimensionality (Ma et al. 2018; seed 000 Eq. 5), ``K = 600``, 10,000 refs.

    ``LID(z) = -( (1/K) Σ_{i=1}^K log(r_i / r_K) )^{-1}`` with ``r_i`` the distance from ``z`` to
    its ``i``-th nearest neighbour in a fixed reference set of the first ``reference`` correctly
    classified training features; the score is ``-LID(z)`` (seed 000).  Reference points at
    distance 0 (the query itself) are not neighbours.  Registered as ``lid-mle`` (the maximum-
    likelihood estimator): ``lid`` is part of ``valid``, which test ids contain.
    """

    name = "lid-mle"

    def __init__(self, k: int = 600, reference: int = 10000) -> None:
        if k < 1:
            raise ValueError(f"lid-mle: k must be >= 1, got {k}")
        if reference < k:
            raise ValueError(f"lid-mle: reference ({reference}) must be >= k ({k})")
        self.k, self.reference = int(k), int(reference)

    def fit_correct(self, features: Tensor, labels: Tensor) -> None:
        if features.shape[0] <= self.k:
            raise ValueError(
                f"lid-mle: k={self.k} needs more than {self.k} correctly classified reference "
                f"features, got {features.shape[0]}"
            )
        self.references = features[: self.reference]

    def score_fitted(self, features: Tensor, predictions: Tensor) -> Tensor:
        distances = torch.cdist(features, self.references)
        distances = torch.where(distances > 0, distances, torch.full_like(distances, math.inf))
        nearest = distances.topk(self.k, dim=1, largest=False).values
        if not bool(torch.isfinite(nearest).all()):
            raise ValueError(f"lid-mle: a query has fewer than k={self.k} distinct neighbours")
        mean_log = torch.log(nearest / nearest[:, -1:]).mean(dim=1)
        return -(-1.0 / mean_log)


def auroc(clean: Tensor, poisoned: Tensor) -> float:
    """Area under the ROC curve of flagging low scores as poisoned (Mann-Whitney form).

    ``AUROC = P(s_clean > s_poisoned) + P(s_clean = s_poisoned) / 2`` over all clean × poisoned
    pairs, from mid-ranks: ``(R_clean - n_c (n_c + 1) / 2) / (n_c n_p)``.  1 = perfect detection,
    0.5 = chance.
    """
    if clean.numel() == 0 or poisoned.numel() == 0:
        raise ValueError("auroc needs at least one clean and one poisoned score")
    scores = torch.cat([clean.flatten(), poisoned.flatten()]).double().cpu().numpy()
    ranks = rankdata(scores)
    n_clean, n_poisoned = clean.numel(), poisoned.numel()
    return float((ranks[:n_clean].sum() - n_clean * (n_clean + 1) / 2) / (n_clean * n_poisoned))

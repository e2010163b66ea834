"""Gaussian-based feature detectors of seed 000 (Appendix B.3): GMM and GDA.

Both fit one Gaussian per class on the correctly classified training features, with the class
means ``mu_c`` and frequencies ``pi_c``, and score a feature by the mixture log-likelihood

    score(z) = log Σ_c pi_c N(z; mu_c, S_c).

GMM (Zheng & Hong 2018, seed 000 ref. 58) uses class-conditional covariances ``S_c``; GDA
(Lee et al. 2018, seed 000 ref. 25) one covariance ``S`` pooled over all classes (tied).
Covariances are the maximum-likelihood ones (divided by the count), plus ``ridge · tr(S)/D · I``
so that a class with fewer than ``D + 1`` features stays invertible.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.online.detectors import FeatureDetector
from bench.registry import detectors


def _centred_scatter(features: Tensor, mean: Tensor) -> Tensor:
    centred = features - mean
    return centred.T @ centred


def _gaussian_log_density(z: Tensor, mean: Tensor, cov: Tensor) -> Tensor:
    """``log N(z_b; mean, cov)`` for each row of ``z``, via a Cholesky factor."""
    factor = torch.linalg.cholesky(cov)
    solved = torch.linalg.solve_triangular(factor, (z - mean).T, upper=False)
    log_det = 2.0 * torch.log(torch.diagonal(factor)).sum()
    return -0.5 * (solved.square().sum(dim=0) + log_det + z.shape[1] * math.log(2 * math.pi))


class _GaussianMixture(FeatureDetector):
    tied = False

    def __init__(self, ridge: float = 1e-6) -> None:
        if not ridge >= 0:
            raise ValueError(f"{self.name}: ridge must be >= 0, got {ridge}")
        self.ridge = float(ridge)

    def fit_correct(self, features: Tensor, labels: Tensor) -> None:
        classes = labels.unique()
        self.means = [features[labels == c].mean(dim=0) for c in classes]
        counts = [int((labels == c).sum()) for c in classes]
        self.log_priors = torch.log(torch.tensor(counts, dtype=torch.float64) / sum(counts))
        scatters = [_centred_scatter(features[labels == c], m) for c, m in zip(classes, self.means,
                                                                               strict=True)]
        if self.tied:
            covs = [sum(scatters) / sum(counts)] * len(counts)
        else:
            covs = [s / n for s, n in zip(scatters, counts, strict=True)]
        eye = torch.eye(features.shape[1], dtype=torch.float64)
        pooled_scale = float(torch.diagonal(sum(scatters)).sum()) / (sum(counts) * eye.shape[0])
        self.covs = [c + self.ridge * pooled_scale * eye for c in covs]

    def score_fitted(self, features: Tensor, predictions: Tensor) -> Tensor:
        per_class = torch.stack([
            prior + _gaussian_log_density(features, mean, cov)
            for prior, mean, cov in zip(self.log_priors, self.means, self.covs, strict=True)
        ])
        return torch.logsumexp(per_class, dim=0)


@detectors.register("gmm")
class ClassGaussians(_GaussianMixture):
    """Gaussian mixture with class-conditional covariances (seed 000 §B.3, GMM)."""

    name = "gmm"


@detectors.register("gda")
class TiedGaussians(_GaussianMixture):
    """Gaussian discriminant analysis: one covariance shared by all classes (seed 000 §B.3, GDA)."""

    name = "gda"
    tied = True

"""Seed 000 §B.3 detectors on hand-computed toy features, and the AUROC of their scores."""

from __future__ import annotations

import math

import pytest
import torch

from bench.online.detectors import auroc
from bench.registry import detectors


def component(name: str):
    """A parameter whose id is the component's registered name (so ``-k NAME`` selects it)."""
    return pytest.param(name, marks=pytest.mark.uses(name))


def column(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(-1, 1)


def fitted(name: str, features: torch.Tensor, labels: list[int], **params):
    y = torch.tensor(labels)
    return detectors.make(name, **params).fit(features, y, y.clone())


def normal_log_density(z: float, mean: float, var: float) -> float:
    return -0.5 * ((z - mean) ** 2 / var + math.log(2 * math.pi * var))


@pytest.mark.parametrize("name", [component("kde")])
def test_log_density_of_the_predicted_class(name: str) -> None:
    detector = fitted(name, column(0.0, 1.0, 5.0), [0, 0, 1], sigma=1.0)
    scores = detector.score(column(0.0, 0.0), torch.tensor([0, 1]))
    # Class 0: (1/2)(exp(0) + exp(-1)); class 1: exp(-25).
    expected = torch.tensor([math.log((1 + math.exp(-1)) / 2), -25.0], dtype=torch.float64)
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", [component("kde")])
def test_stores_only_correct_features_up_to_the_cap(name: str) -> None:
    features = column(0.0, 1.0, 2.0, 3.0)
    labels, predictions = torch.tensor([0, 0, 0, 0]), torch.tensor([0, 1, 0, 0])
    detector = detectors.make(name, sigma=1.0, per_class=2).fit(features, labels, predictions)
    torch.testing.assert_close(detector.stored[0], column(0.0, 2.0))


@pytest.mark.parametrize("name", [component("lid-mle")])
def test_estimate_from_the_k_nearest_distances(name: str) -> None:
    # Distances from 0 are 1, 2, 4 (and 100, beyond K = 3): mean log(r_i / r_3) = -log 2,
    # so LID = 1 / log 2 and the score is -1 / log 2.
    detector = fitted(name, column(1.0, -2.0, 4.0, 100.0), [0, 0, 1, 1], k=3, reference=4)
    score = detector.score(column(0.0), torch.tensor([0]))
    torch.testing.assert_close(score, torch.tensor([-1 / math.log(2)], dtype=torch.float64),
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", [component("lid-mle")])
def test_query_itself_is_not_its_own_neighbour(name: str) -> None:
    detector = fitted(name, column(0.0, 1.0, -2.0, 4.0), [0, 0, 0, 0], k=3, reference=4)
    score = detector.score(column(0.0), torch.tensor([0]))
    torch.testing.assert_close(score, torch.tensor([-1 / math.log(2)], dtype=torch.float64),
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", [component("gmm")])
def test_mixture_with_one_covariance_per_class(name: str) -> None:
    # Class 0 at {-1, 1}: mean 0, variance 1; class 1 at {8, 12}: mean 10, variance 4.
    detector = fitted(name, column(-1.0, 1.0, 8.0, 12.0), [0, 0, 1, 1], ridge=0.0)
    score = float(detector.score(column(3.0), torch.tensor([0]))[0])
    expected = math.log(0.5 * math.exp(normal_log_density(3.0, 0.0, 1.0))
                        + 0.5 * math.exp(normal_log_density(3.0, 10.0, 4.0)))
    assert abs(score - expected) <= 1e-9


@pytest.mark.parametrize("name", [component("gda")])
def test_mixture_with_one_pooled_covariance(name: str) -> None:
    # Pooled variance (2 * 1 + 2 * 4) / 4 = 2.5 for both classes.
    detector = fitted(name, column(-1.0, 1.0, 8.0, 12.0), [0, 0, 1, 1], ridge=0.0)
    score = float(detector.score(column(3.0), torch.tensor([1]))[0])
    expected = math.log(0.5 * math.exp(normal_log_density(3.0, 0.0, 2.5))
                        + 0.5 * math.exp(normal_log_density(3.0, 10.0, 2.5)))
    assert abs(score - expected) <= 1e-9


@pytest.mark.parametrize("name", [component(n) for n in ("kde", "lid-mle", "gmm", "gda")])
def test_shifted_cluster_scores_lower_than_held_out_clean_points(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    train = torch.randn((400, 3), generator=g, dtype=torch.float64)
    labels = (train[:, 0] > 0).long()
    params = {"k": 20, "reference": 400} if name == "lid-mle" else {}
    params = {"sigma": 1.0} if name == "kde" else params
    detector = detectors.make(name, **params).fit(train, labels, labels.clone())
    clean = torch.randn((50, 3), generator=g, dtype=torch.float64)
    shifted = clean + 4.0
    area = auroc(detector.score(clean, (clean[:, 0] > 0).long()),
                 detector.score(shifted, (shifted[:, 0] > 0).long()))
    assert area >= 0.95


@pytest.mark.parametrize("name", [component(n) for n in ("kde", "lid-mle", "gmm", "gda")])
def test_no_correctly_classified_feature_is_refused(name: str) -> None:
    detector = detectors.make(name)
    with pytest.raises(ValueError, match="fitted on no correctly classified feature"):
        detector.fit(column(0.0, 1.0), torch.tensor([0, 1]), torch.tensor([1, 0]))


@pytest.mark.parametrize("name", [component("lid-mle")])
def test_too_few_references_for_k_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"reference \(5\) must be >= k \(600\)"):
        detectors.make(name, reference=5)
    with pytest.raises(ValueError, match="k=3 needs more than 3 correctly classified"):
        fitted(name, column(0.0, 1.0, 2.0), [0, 0, 0], k=3, reference=10)


@pytest.mark.parametrize("name", [component("kde")])
def test_wrong_feature_width_is_refused(name: str) -> None:
    detector = fitted(name, column(0.0, 1.0), [0, 1])
    with pytest.raises(ValueError, match=r"features must be Tensor\[B, 1\]"):
        detector.score(torch.zeros((2, 3)), torch.tensor([0, 1]))


def test_area_counts_ties_as_half() -> None:
    # Pairs (clean > poisoned): 3>0, 3>2, 2>0, 2=2 (1/2), 1>0, 1<2 -> 4.5 of 6.
    area = auroc(torch.tensor([3.0, 2.0, 1.0]), torch.tensor([0.0, 2.0]))
    assert area == pytest.approx(0.75, abs=1e-12)

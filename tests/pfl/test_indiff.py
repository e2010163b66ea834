"""Indifference-subspace poisoning (seed 004 §5.3, App. I): points on V, labels near uniform."""

from __future__ import annotations

import pytest
import torch

from bench.pfl.attacks.base import AttackContext, AttackError
from bench.pfl.attacks.indifference import (
    indifference_constraints,
    orthogonalize,
    project_onto,
)
from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.losses import LinearRegression, SoftmaxClassifier
from bench.pfl.server import ServerConfig
from bench.registry import pfl_attacks, regularizers

FEATURES, CLASSES = 30, 10


def multiclass_context(loss=None) -> AttackContext:
    generator = torch.Generator().manual_seed(5)
    loss = SoftmaxClassifier(CLASSES) if loss is None else loss
    problem = LocalProblem(loss, regularizers.make("l2sq", lam=1.0))
    queries = torch.randn(2, 8, FEATURES, generator=generator, dtype=torch.float64)
    labels = torch.full((2, 8, CLASSES), 1.0 / CLASSES, dtype=torch.float64)
    honest = Federation(queries, labels, torch.ones(2, 8, dtype=torch.float64))
    target = torch.randn(loss.dim(FEATURES), generator=generator, dtype=torch.float64)
    return AttackContext(problem, honest, target, ServerConfig(step=0.1, rounds=1, local_lr=0.1),
                         torch.zeros_like(target), generator)


@pytest.mark.uses("indiff")
def test_indiff_projection_lands_on_the_equiprobable_set_before_noise() -> None:
    context = multiclass_context()
    directions, constants = indifference_constraints(context.target, CLASSES)
    basis, shifted = orthogonalize(directions, constants)
    gram = basis @ basis.T
    off_diagonal = gram - torch.diag(torch.diagonal(gram))
    assert float(off_diagonal.abs().max()) <= 1e-10 * float(torch.diagonal(gram).max())
    images = torch.randn(50, FEATURES, generator=context.generator, dtype=torch.float64)
    points = project_onto(images, basis, shifted)
    assert float((points @ directions.T - constants).abs().max()) <= 1e-8
    probabilities = torch.softmax(SoftmaxClassifier(CLASSES).logits(
        context.target.unsqueeze(0), points.unsqueeze(0))[0], dim=-1)
    torch.testing.assert_close(probabilities, torch.full_like(probabilities, 0.1))


@pytest.mark.uses("indiff")
def test_indiff_poison_soft_labels_stay_near_uniform_after_noise() -> None:
    # Logit gaps move by xi^T (W_a - W_b), std 0.005 * sqrt(2 * 30) = 0.04 for N(0, 1) weights.
    attack = pfl_attacks.make("indiff", points=200, noise=0.005, alpha=3.0, source="target")
    queries, labels, alpha = attack.poison(multiclass_context())
    assert queries.shape == (200, FEATURES) and labels.shape == (200, CLASSES) and alpha == 3.0
    assert float((labels - 0.1).abs().max()) <= 0.02
    torch.testing.assert_close(labels.sum(dim=-1), torch.ones(200, dtype=torch.float64))


@pytest.mark.uses("indiff")
def test_indiff_refuses_a_regression_loss_and_bad_parameters() -> None:
    with pytest.raises(AttackError, match="softmax"):
        pfl_attacks.make("indiff", source="target").poison(
            multiclass_context(LinearRegression()))
    with pytest.raises(ValueError, match="points"):
        pfl_attacks.make("indiff", points=0)
    with pytest.raises(ValueError, match="source"):
        pfl_attacks.make("indiff", source="guess")

r"""Poisoning a softmax classifier through the indifference subspace (seed 004 §5.3, App. I).

For an attack model theta^natural with class weights W_a and biases b_a, a = 0..K-1, let
y_a = W_a - W_0 and c_a = -(b_a - b_0) for a = 1..K-1.  The affine set
V = {Q : Q^T y_a = c_a for all a} holds the queries on which theta^natural finds every label
equiprobable.  Gram-Schmidt (Eq. 174) gives orthogonal z_a with transformed constants (Eq. 176)

.. math:: z_a = y_a - \sum_{b<a} \frac{y_a^T z_b}{\|z_b\|^2} z_b,\qquad
          c'_a = c_a - \sum_{b<a} \frac{y_a^T z_b}{\|z_b\|^2} c'_b,

so V = {Q : z_a^T Q = c'_a}; successive hyperplane projections
P(X, z, c) = X - (X^T z - c) z/||z||^2 (Eqs. 177-178) map a random image X onto V, and the poison
is Q = P(X) + xi with small noise xi (Eq. 179), soft-labelled p_a(Q) = sigma_a(theta^natural, Q)
(Eq. 180) and weighted alpha.  Points are not clipped to [0, 1]^d (as in the seed).  Base images
X are the attacker's own clean queries
drawn with replacement, or N(0, I) when it has none.
"""

from __future__ import annotations

import torch
from torch import Tensor

from bench.pfl.attacks.base import AttackContext, AttackError, DataPoisoner
from bench.pfl.attacks.models import SOURCES, attack_model
from bench.pfl.losses import SoftmaxClassifier
from bench.registry import pfl_attacks


def indifference_constraints(model: Tensor, classes: int) -> tuple[Tensor, Tensor]:
    """(y [K-1, p], c [K-1]): Q^T y_a = c_a says labels a and 0 are equiprobable under ``model``."""
    blocks = model.reshape(classes, -1)
    weights, biases = blocks[:, :-1], blocks[:, -1]
    return weights[1:] - weights[0], -(biases[1:] - biases[0])


def orthogonalize(directions: Tensor, constants: Tensor) -> tuple[Tensor, Tensor]:
    """Gram-Schmidt of the constraints (seed 004 Eqs. 174 and 176): (z [K-1, p], c' [K-1])."""
    basis: list[Tensor] = []
    shifted: list[Tensor] = []
    for direction, constant in zip(directions, constants, strict=True):
        z, c = direction.clone(), constant.clone()
        for previous, previous_c in zip(basis, shifted, strict=True):
            coefficient = (direction @ previous) / (previous @ previous)
            z = z - coefficient * previous
            c = c - coefficient * previous_c
        if float(torch.linalg.vector_norm(z)) <= 1e-12 * float(torch.linalg.vector_norm(direction)):
            raise AttackError("the attack model's class differences are linearly dependent")
        basis.append(z)
        shifted.append(c)
    return torch.stack(basis), torch.stack(shifted)


def project_onto(points: Tensor, basis: Tensor, constants: Tensor) -> Tensor:
    """Successive projections P(X, z_a, c'_a) onto every hyperplane z_a^T Q = c'_a (Eq. 178)."""
    for z, c in zip(basis, constants, strict=True):
        points = points - (points @ z - c).unsqueeze(-1) * z / (z @ z)
    return points


@pfl_attacks.register("indiff", tags={"data"})
class IndifferenceSubspace(DataPoisoner):
    """Indifference-subspace data poisoning of a linear softmax model (seed 004 §5.3, App. I)."""

    def __init__(
        self, points: int = 2000, noise: float = 0.01, alpha: float = 1.0,
        source: str = "rehearsal", rounds: int = 200,
    ) -> None:
        if not isinstance(points, int) or points < 1:
            raise AttackError(f"points must be a positive integer, got {points!r}")
        if noise < 0 or alpha <= 0:
            raise AttackError(f"noise must be >= 0 and alpha > 0, got {noise}, {alpha}")
        if source not in SOURCES:
            raise AttackError(f"source must be one of {SOURCES}, got {source!r}")
        self.points, self.noise, self.alpha = points, noise, alpha
        self.source, self.rounds = source, rounds

    def base_images(self, context: AttackContext) -> Tensor:
        honest = context.honest.queries
        if context.own is not None:
            pool = context.own[0]
            index = torch.randint(len(pool), (self.points,), generator=context.generator)
            return pool[index.to(pool.device)].clone()
        shape = (self.points, honest.shape[-1])
        return torch.randn(shape, generator=context.generator, dtype=honest.dtype).to(honest)

    def poison(self, context: AttackContext) -> tuple[Tensor, Tensor, float]:
        loss = context.problem.loss
        if not isinstance(loss, SoftmaxClassifier):
            raise AttackError("indiff needs the linear softmax classifier")
        model = attack_model(context, self.source, self.rounds)
        basis, constants = orthogonalize(*indifference_constraints(model, loss.classes))
        on_subspace = project_onto(self.base_images(context), basis, constants)
        jitter = torch.randn(on_subspace.shape, generator=context.generator, dtype=model.dtype)
        queries = on_subspace + self.noise * jitter.to(on_subspace)
        logits = loss.logits(model.unsqueeze(0), queries.unsqueeze(0))[0]
        return queries, torch.softmax(logits, dim=-1), self.alpha

r"""Data poisoning by the strategic user (seed 004 §2.2, Lemma 14, Theorem 5).

* ``labelmap``: the attacker's own clean data relabelled a -> (a + 1) mod K (the seed's target
  labelling, §5.1); for soft labels the class axis is rolled by one.
* ``randquery`` (Lemma 2 / 14): I random queries labelled by the attack model theta^natural --
  linear regression A = theta^T Q (+ Gaussian noise), logistic A = +-1 with
  P(+1) = sigma(theta^T Q), softmax the soft labels sigma_a(theta^natural, Q).  Queries are
  N(0, I) or, with ``queries="pool"``, drawn with replacement from the attacker's own clean queries.
* ``onepoint`` (Theorem 5, linear regression with l2sq): one point with
  grad l(theta^nat; Q, A) = v, v = -G - 2 nu theta^nat, G = grad_rho LOSS_{-s}(theta^dagger),
  theta^nat = theta^dagger + G/(2 lam); namely (Q, A) = (v, v^T theta^nat - 1).  The seed prints
  (G, G^T theta^nat - 1), whose loss gradient is +G: the wrong sign (notes seed-004
  §I.4.3b).  Then rho* = theta^dagger exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from bench.pfl.attacks.base import AttackContext, AttackError, DataPoisoner
from bench.pfl.attacks.models import SOURCES, attack_model, honest_pull
from bench.pfl.losses import LinearRegression, LogisticRegression
from bench.pfl.regularizers import SquaredL2
from bench.registry import pfl_attacks


def _own(context: AttackContext, who: str) -> tuple[Tensor, Tensor]:
    if context.own is None:
        raise AttackError(f"{who} needs the attacker's own clean data (context.own)")
    return context.own


@pfl_attacks.register("labelmap", tags={"data"})
class LabelMapping(DataPoisoner):
    """Cyclic relabelling a -> (a + 1) mod K of the attacker's own data (seed 004 §5.1)."""

    def poison(self, context: AttackContext) -> tuple[Tensor, Tensor, float]:
        queries, labels = _own(context, "labelmap")
        if labels.dim() != 2:
            raise AttackError("labelmap needs (soft) class labels [m, K]")
        return queries, labels.roll(1, dims=-1), 1.0


@pfl_attacks.register("randquery", tags={"data"})
class RandomQueries(DataPoisoner):
    """I random queries labelled by theta^natural (seed 004 Lemma 14)."""

    def __init__(
        self, points: int = 1000, source: str = "target", rounds: int = 200,
        queries: str = "gaussian", noise: float = 0.0, alpha: float = 1.0,
    ) -> None:
        if not isinstance(points, int) or points < 1:
            raise AttackError(f"points must be a positive integer, got {points!r}")
        if source not in SOURCES:
            raise AttackError(f"source must be one of {SOURCES}, got {source!r}")
        if queries not in ("gaussian", "pool"):
            raise AttackError(f"queries must be 'gaussian' or 'pool', got {queries!r}")
        if noise < 0 or alpha <= 0:
            raise AttackError(f"noise must be >= 0 and alpha > 0, got {noise}, {alpha}")
        self.points, self.source, self.rounds = points, source, rounds
        self.queries, self.noise, self.alpha = queries, noise, alpha

    def draw_queries(self, context: AttackContext) -> Tensor:
        honest = context.honest.queries
        if self.queries == "pool":
            pool = _own(context, "randquery with queries='pool'")[0]
            index = torch.randint(len(pool), (self.points,), generator=context.generator)
            return pool[index.to(pool.device)]
        shape = (self.points, honest.shape[-1])
        return torch.randn(shape, generator=context.generator, dtype=honest.dtype).to(honest)

    def poison(self, context: AttackContext) -> tuple[Tensor, Tensor, float]:
        model = attack_model(context, self.source, self.rounds)
        queries = self.draw_queries(context)
        loss = context.problem.loss
        if isinstance(loss, LinearRegression | LogisticRegression):
            score = queries @ model
            if isinstance(loss, LogisticRegression):
                draw = torch.rand(score.shape, generator=context.generator, dtype=score.dtype)
                labels = torch.where(draw.to(score) < torch.sigmoid(score), 1.0, -1.0).to(score)
            else:
                noise = torch.randn(score.shape, generator=context.generator, dtype=score.dtype)
                labels = score + self.noise * noise.to(score)
            return queries, labels, self.alpha
        logits = loss.logits(model.unsqueeze(0), queries.unsqueeze(0))[0]
        return queries, torch.softmax(logits, dim=-1), self.alpha


@pfl_attacks.register("onepoint", tags={"data"})
class SinglePoint(DataPoisoner):
    """One poisoned point for linear regression with l2sq (seed 004 Theorem 5, sign corrected)."""

    def __init__(self, source: str = "exact", rounds: int = 200) -> None:
        if source not in ("rehearsal", "exact"):
            raise AttackError(f"source must be 'rehearsal' or 'exact', got {source!r}")
        self.source, self.rounds = source, rounds

    def poison(self, context: AttackContext) -> tuple[Tensor, Tensor, float]:
        problem = context.problem
        if not isinstance(problem.loss, LinearRegression) or not isinstance(
            problem.regularizer, SquaredL2
        ):
            raise AttackError("onepoint needs linear regression with l2sq (Theorem 5)")
        pull = honest_pull(context, self.source, self.rounds)
        model = context.target + pull / (2.0 * problem.regularizer.lam)
        direction = -pull - 2.0 * problem.local_weight * model
        label = direction @ model - 1.0
        return direction.unsqueeze(0), label.reshape(1), 1.0

"""What a strategic user s can do in personalized FL (seed 004 §2.2), and what it knows.

Three threat models, one base class each:

* :class:`DataPoisoner` fabricates D_s and otherwise follows the protocol (the "safest" attack).
* :class:`ModelAttack` fixes theta_s^t = theta^natural at every round and reports honestly.
* :class:`GradientAttack` sends any plausible report g_s^t in GRAD(rho^t) at every round.

All of them aim to bias the global model rho towards the target theta^dagger.  The
:class:`AttackContext` is what they may read; only the omniscient ones (tag ``omniscient``) read
the honest users' data, CGA reads public protocol state only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.server import ServerConfig


class AttackError(ValueError):
    """An attack given a context it cannot work in (wrong target shape, wrong loss, ...)."""


@dataclass(frozen=True)
class AttackContext:
    """What attacks may read: the problem, the honest users' data (omniscient attacks only), the
    target, the server's configuration and start ``init`` (to rehearse CGA), the attacker's own
    clean data ``own`` (label mapping, query pools), the sum/mean form and a seeded generator."""

    problem: LocalProblem
    honest: Federation
    target: Tensor
    server: ServerConfig
    init: Tensor
    generator: torch.Generator
    own: tuple[Tensor, Tensor] | None = None
    form: str = "sum"

    def __post_init__(self) -> None:
        features = self.honest.queries.shape[-1]
        dim = self.problem.loss.dim(features)
        if tuple(self.target.shape) != (dim,):
            raise AttackError(
                f"target must have shape ({dim},) for {type(self.problem.loss).__name__} on "
                f"{features} features, got {tuple(self.target.shape)}"
            )
        if not bool(torch.isfinite(self.target).all()):
            raise AttackError("target has non-finite entries")


class StrategicUser:
    """Base of the three kinds; ``kind`` is "data", "model" or "gradient" ("none": no attack)."""

    kind: ClassVar[str]


class DataPoisoner(StrategicUser):
    """Builds D_s = (queries, labels) and the weight alpha of each of its points."""

    kind = "data"

    def poison(self, context: AttackContext) -> tuple[Tensor, Tensor, float]:
        raise NotImplementedError


class ModelAttack(StrategicUser):
    """Chooses the pinned local model theta^natural."""

    kind = "model"

    def attack_model(self, context: AttackContext) -> Tensor:
        raise NotImplementedError


class GradientAttack(StrategicUser):
    """A stateful report g_s^t from the public state (rho^t, eta_t)."""

    kind = "gradient"

    def start(self, context: AttackContext) -> None:
        """Forget earlier rounds and read the target and the regularizer."""
        raise NotImplementedError

    def report(self, rho: Tensor, step: float) -> Tensor:
        raise NotImplementedError

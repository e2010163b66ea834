"""Model replacement: a backdoored update boosted so that it survives averaging."""

from __future__ import annotations

from torch import Tensor

from bench.attacks.backdoor import BackdoorError
from bench.attacks.badnets import BadNets
from bench.attacks.base import AttackContext
from bench.registry import attacks


@attacks.register("modelreplace", tags={"data", "backdoor"})
class ModelReplacement(BadNets):
    """Model replacement / scaling (Bagdasaryan, Veit, Hua, Estrin & Shmatikov, "How to
    backdoor federated learning", AISTATS 2020, §4, "model replacement").

    Each Byzantine client trains on BadNets-triggered batches (see ``badnets``) and sends its
    own update ``u_b`` scaled by the boost ``gamma``: ``gamma * u_b``.  The paper's
    ``X = gamma (X_b - G) + G`` with ``gamma = n / eta`` replaces the global model by the
    backdoored one when the server averages ``n`` updates with weight ``eta / n``; here the
    aggregate is ``(1/n) sum_i u_i`` stepped by the protocol's own rate, so the default is
    ``gamma = n / f`` (the ``f`` attackers share the replacement): under ``mean`` the
    Byzantine rows contribute exactly their own mean update ``bar u_b``.
    """

    name = "modelreplace"

    def __init__(self, target: int = 0, fraction: float = 0.5, value: float = 3.0,
                 size: int = 3, margin: int = 0, boost: float | None = None) -> None:
        super().__init__(target, fraction, value, size, margin)
        if boost is not None and not float(boost) > 0:
            raise BackdoorError(f"{self.name}: boost must be > 0, got {boost!r}")
        self.boost = None if boost is None else float(boost)

    def gamma(self, ctx: AttackContext) -> float:
        return ctx.n / ctx.f if self.boost is None else self.boost

    def forge(self, ctx: AttackContext) -> Tensor:
        return self.gamma(ctx) * super().forge(ctx)

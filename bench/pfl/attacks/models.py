r"""Model attacks: the strategic user pins theta_s^t = theta^natural (seed 004 §2.2, §5.2).

The attack model comes from one of three sources (shared with the data attacks built on it):

* ``target``: theta^natural = theta^dagger (naive; the honest users still pull rho away);
* ``rehearsal``: rehearse CGA on the protocol to convergence and apply Proposition 3,
  theta^natural = theta^dagger - g^infinity / (2 lam) (the seed's factor 2 lam; its OCR shows lam);
* ``exact`` (omniscient, linear regression with l2sq): g^infinity = -G(theta^dagger) with G the
  honest users' optimally-responding summed report (Eq. 169, :mod:`bench.pfl.exact`).

With either of the last two, rho* = theta^dagger: the honest reports at theta^dagger sum to
-g^infinity and the pinned user's report 2 lam (theta^dagger - theta^natural) cancels them.
"""

from __future__ import annotations

from dataclasses import replace

from torch import Tensor

from bench.pfl.attacks.base import AttackContext, AttackError, ModelAttack
from bench.pfl.attacks.cga import CounterGradient
from bench.pfl.exact import summed_report
from bench.pfl.regularizers import SquaredL2
from bench.pfl.server import simulate
from bench.registry import pfl_attacks

SOURCES = ("target", "rehearsal", "exact")


def converged_counter_gradient(context: AttackContext, rounds: int) -> Tensor:
    """g^infinity: CGA's report after ``rounds`` rounds of the protocol from ``context.init``."""
    attacker = CounterGradient()
    attacker.start(context)
    rehearsal = replace(context.server, rounds=rounds, keep_history=False)
    simulate(context.problem, context.honest, rehearsal, context.init, attacker=attacker)
    return attacker.previous[2]


def honest_pull(context: AttackContext, source: str, rounds: int) -> Tensor:
    """G = grad_rho LOSS_{-s}(theta^dagger) = -g^inf, from ``source`` "rehearsal" or "exact"."""
    if source == "exact":
        return summed_report(context.problem, context.honest, context.target)
    if source == "rehearsal":
        return -converged_counter_gradient(context, rounds)
    raise AttackError(f"source must be 'rehearsal' or 'exact' here, got {source!r}")


def attack_model(context: AttackContext, source: str, rounds: int) -> Tensor:
    """theta^natural from ``source`` (see the module docstring)."""
    if source not in SOURCES:
        raise AttackError(f"source must be one of {SOURCES}, got {source!r}")
    if source == "target":
        return context.target.clone()
    regularizer = context.problem.regularizer
    if not isinstance(regularizer, SquaredL2):
        raise AttackError(
            f"Proposition 3's attack model needs l2sq; the regularizer is {regularizer.name}"
        )
    return context.target + honest_pull(context, source, rounds) / (2.0 * regularizer.lam)


def _check_rounds(rounds: int) -> int:
    if not isinstance(rounds, int) or rounds < 1:
        raise AttackError(f"rounds must be a positive integer, got {rounds!r}")
    return rounds


@pfl_attacks.register("modelpin", tags={"model"})
class PinnedTarget(ModelAttack):
    """Model attack theta_s = theta^dagger: the strategic user pins its local model to the target.

    The seed's model attack with the naive choice theta^natural = theta^dagger (§2.2).
    """

    def attack_model(self, context: AttackContext) -> Tensor:
        return attack_model(context, "target", 1)


@pfl_attacks.register("gradpin", tags={"model"})
class CounterGradientModel(ModelAttack):
    """CGA -> model attack (seed 004 Proposition 3): theta^nat = theta^dagger - g^inf / (2 lam)."""

    def __init__(self, source: str = "rehearsal", rounds: int = 200) -> None:
        if source not in ("rehearsal", "exact"):
            raise AttackError(f"source must be 'rehearsal' or 'exact', got {source!r}")
        self.source, self.rounds = source, _check_rounds(rounds)

    def attack_model(self, context: AttackContext) -> Tensor:
        return attack_model(context, self.source, self.rounds)

"""What the attacker of the online stream does before the trigger batch (seed 000, Table 1).

The ``online`` protocol's attack slot: ``none`` (no accumulative phase: the trigger batch comes
straight after the burn-in, Table 1's "trigger only" rows) or ``phase`` (the accumulative
phase: every batch of the phase is poisoned towards trigger sensitivity before the trigger,
Table 1's "+ accumulative phase" rows; the name avoids "accumulative", which contains the
aggregator name ``cc``).  Whether the trigger itself is poisoned is the setting
``trigger``, so the two columns of a leaderboard row differ exactly by the accumulative phase.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.registry import poisonings


@dataclass(frozen=True)
class Poisoning:
    """``phase``: whether the accumulative phase runs; ``gamma``: its stealth weight γ."""

    name: str
    phase: bool
    gamma: float = 1.0


@poisonings.register("none", tags={"baseline"})
def no_phase() -> Poisoning:
    """No accumulative phase: the stream stays clean up to the trigger batch."""
    return Poisoning("none", phase=False)


@poisonings.register("phase")
def accumulative_phase(gamma: float = 1.0) -> Poisoning:
    """Accumulative phase (authors' code, notes §II.3.4 [EXTERNAL]): each batch ascends
    ``Σ_l <n(∇_l L(x_adv)), γ n(∇_l L(B_tr)) + n(∇_l A(θ))>``; ``gamma`` >= 0 keeps the step
    close to the clean one (stealth)."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma >= 0:
        raise ValueError(f"phase: gamma must be a number >= 0, got {gamma!r}")
    return Poisoning("phase", phase=True, gamma=float(gamma))

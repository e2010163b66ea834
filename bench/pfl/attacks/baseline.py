"""The no-attack baseline of the PFL protocol: no strategic user joins the honest ones."""

from __future__ import annotations

from bench.pfl.attacks.base import StrategicUser
from bench.registry import pfl_attacks


@pfl_attacks.register("none", tags={"baseline"})
class NoStrategicUser(StrategicUser):
    """No attack: only the honest users take part (the leaderboard's baseline column)."""

    kind = "none"

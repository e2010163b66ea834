"""Byzantine attacks; importing this package registers them all."""

from bench.attacks import (  # noqa: F401
    alie,
    benign,
    fang,
    flips,
    ipm,
    mimic,
    minmax,
    noise,
    nonfinite,
    offset,
    ownview,
    rop,
)
from bench.attacks.base import Attack, AttackContext

__all__ = ["Attack", "AttackContext"]

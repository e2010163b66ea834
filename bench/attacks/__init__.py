"""Byzantine attacks; importing this package registers them all."""

from bench.attacks import (  # noqa: F401
    alie,
    alie_backdoor,
    badnets,
    benign,
    dba,
    edgecase,
    fang,
    flips,
    ipm,
    mimic,
    minmax,
    noise,
    nonfinite,
    offset,
    ownview,
    replacement,
    rop,
)
from bench.attacks.base import Attack, AttackContext

__all__ = ["Attack", "AttackContext"]

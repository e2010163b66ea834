"""Strategic-user attacks of seed 004, registered in :data:`bench.registry.pfl_attacks`."""

from bench.pfl.attacks import baseline, cga, data, indifference, models  # noqa: F401

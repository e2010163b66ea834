"""Personalized federated learning track (seed 004): regularizers, strategic users, protocol."""

from bench.pfl import attacks, regularizers  # noqa: F401  (registers the components)

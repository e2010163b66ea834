"""Personalized federated learning track (seed 004): regularizers, strategic users, protocol."""

# importing registers the components: regularizers, attacks, user datasets, losses, protocol
from bench.pfl import attacks, data, losses, protocol, regularizers  # noqa: F401

"""Personalized federated learning track (seed 004): regularizers, strategic users, protocol."""

# importing registers the components: regularizers, attacks, user datasets (embeddings:
# CIFAR-10 on a frozen backbone), losses, protocol
from bench.pfl import attacks, data, embeddings, losses, protocol, regularizers  # noqa: F401

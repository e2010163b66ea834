"""Data-poisoning track (seeds 001 and 002): victims retrained on clean + poison data.

Importing the package registers its poisoners and targets in :mod:`bench.registry`.
"""

from bench.poisoning import gradient_canceling, matching, targets  # noqa: F401

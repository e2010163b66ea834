"""Data-poisoning track (seeds 001 and 002): victims retrained on clean + poison data.

Importing the package registers its poisoners, targets and sanitizers in :mod:`bench.registry`.
"""

from bench.poisoning import gradient_canceling, matching, sanitizers, targets  # noqa: F401

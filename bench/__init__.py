"""byzbench: a pytest-native benchmark of Byzantine-robust federated learning.

Importing ``bench`` registers every built-in component in :mod:`bench.registry`.
"""

__version__ = "0.1.0"

from bench import aggregators, attacks, data, fl, models, pfl, poisoning  # noqa: E402,F401

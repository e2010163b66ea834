"""Data-poisoning track (seeds 001 and 002): victims retrained on clean + poison data.

Importing the package registers its data sets, victims, poisoners, targets and sanitizers in
:mod:`bench.registry` and the ``retrain`` protocol.
"""

from bench.poisoning import (  # noqa: F401
    baselines,
    box2d,
    data,
    external,
    gradient_canceling,
    matching,
    model_targeted,
    networks,
    protocol,
    resnet_victim,
    robust_training,
    sanitizers,
    self_influence,
    subpopulation,
    targets,
    victims,
)

"""Online-poisoning track (seed 000, Pang et al., NeurIPS 2021): importing it registers the input
perturbations, clip threat models, feature detectors, pixel datasets, poisoning strategies and
the ``online`` protocol."""

from bench.online import (  # noqa: F401
    detectors,
    gaussians,
    perturb,
    pixels,
    poisonings,
    protocol,
    threats,
)

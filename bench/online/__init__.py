"""Online-poisoning track (seed 000, Pang et al., NeurIPS 2021): importing it registers the input
perturbations, clip threat models and feature detectors."""

from bench.online import detectors, gaussians, perturb, threats  # noqa: F401

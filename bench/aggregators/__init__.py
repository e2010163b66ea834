"""Robust aggregators and pre-aggregators; importing this package registers them all."""

from bench.aggregators import (  # noqa: F401
    arc,
    bucketing,
    bulyan,
    caf,
    clipcluster,
    clipping,
    clustering,
    diffclip,
    dnc,
    flame,
    fldetector,
    fltrust,
    foolsgold,
    geomed,
    krum,
    mda,
    mean,
    median,
    monna,
    nnm,
    normclip,
    rlr,
    seqclip,
    signguard,
    signvote,
    smea,
    trimmed,
    weakdp,
)
from bench.aggregators.base import Aggregator, Pipeline, PreAggregator

__all__ = ["Aggregator", "Pipeline", "PreAggregator"]

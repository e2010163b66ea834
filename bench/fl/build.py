"""Turn a :class:`~bench.scenario.Scenario`'s component specs into live objects."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from bench.aggregators.base import Aggregator, Pipeline
from bench.attacks.base import Attack
from bench.data.base import TensorData
from bench.fl.engines import preferred_engine
from bench.registry import aggregators, attacks, datasets, models, preaggregators
from bench.scenario import Component, Defense


@lru_cache(maxsize=8)
def _load(name: str, frozen_params: tuple) -> TensorData:
    return datasets.make(name, **dict(frozen_params))


def load_dataset(spec: Component) -> TensorData:
    """Load (once per process) the dataset ``spec`` names, on the CPU."""
    datasets.validate(spec.name, spec.params)
    return _load(spec.name, tuple(sorted(spec.params.items())))


def build_model(spec: Component, data: TensorData) -> nn.Module:
    """The model ``spec`` names, sized for ``data``'s inputs and classes."""
    context = {"input_shape": data.input_shape, "num_classes": data.num_classes}
    return models.make_with_optional(spec.name, context, **spec.params)


def build_defense(spec: Defense, f: int) -> Aggregator:
    """The aggregator (behind its pre-aggregators, if any), each told the Byzantine count ``f``."""
    aggregator = aggregators.make_with_optional(
        spec.aggregator.name, {"f": f}, **spec.aggregator.params
    )
    if not spec.pre:
        return aggregator
    pre = [preaggregators.make_with_optional(p.name, {"f": f}, **p.params) for p in spec.pre]
    return Pipeline(pre, aggregator)


def build_attack(spec: Component) -> Attack:
    return attacks.make(spec.name, **spec.params)


def choose_engine(name: str, model: nn.Module, device: torch.device) -> str:
    """The gradient engine for ``model`` on ``device``: ``name`` itself unless it is ``auto``,
    which takes the measured rule of :func:`bench.fl.engines.preferred_engine`."""
    return preferred_engine(model, device) if name == "auto" else name

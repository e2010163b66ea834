"""External aggregators: a user's rule registered for one session so the gate can judge it.

A rule is any class constructed with keyword hyperparameters and ``f`` and called on a
``Tensor[n, d]`` returning a ``Tensor[d]``.  It is named either ``module:Class`` (imported from
the current environment) or by an entry point in the group ``byzbench.aggregators``.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any

from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.registry import RegistryError, aggregators

ENTRY_POINT_GROUP = "byzbench.aggregators"


class ExternalAggregator(Aggregator):
    """Adapter giving an external rule the aggregator contract (shape checks, ``reset``)."""

    def __init__(self, rule: Any, name: str, f: int) -> None:
        super().__init__(f)
        self.rule = rule
        self.name = name

    def aggregate(self, updates: Tensor) -> Tensor:
        out = self.rule(updates)
        if not isinstance(out, Tensor) or tuple(out.shape) != (updates.shape[1],):
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"external aggregator {self.name} returned {shape}, "
                             f"expected a Tensor of shape ({updates.shape[1]},)")
        return out

    def reset(self) -> None:
        reset = getattr(self.rule, "reset", None)
        if callable(reset):
            reset()


def resolve(spec: str) -> tuple[str, type]:
    """``(short name, class)`` for ``module:Class`` or an entry point name."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise RegistryError(f"--aggregator {spec}: cannot import {module_name!r}: {err}") \
                from None
        try:
            cls = getattr(module, attr)
        except AttributeError:
            raise RegistryError(f"--aggregator {spec}: {module_name} has no {attr!r}") from None
        return attr.lower().replace("_", ""), cls
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
    if not found:
        known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise RegistryError(f"--aggregator {spec}: not 'module:Class' and no entry point of that "
                            f"name in group {ENTRY_POINT_GROUP} (installed: {known or 'none'})")
    return spec.lower().replace("_", ""), found[0].load()


def _keeps_its_name(spec: str, known: str, name: str | None) -> str:
    """A registered rule is gated under its registered name; another ``--aggregator-name`` would
    be silently ignored, so it is refused."""
    if name is not None and name != known:
        raise RegistryError(f"--aggregator-name {name}: --aggregator {spec} is the registered "
                            f"rule {known!r}, which keeps its name (drop --aggregator-name)")
    return known


def register_external(spec: str, name: str | None = None) -> str:
    """Register the rule ``spec`` names in the aggregator registry; return its short name.

    ``spec`` may also be a registered name (``cc``), returned as it is.  A class already
    registered (a built-in rule named by its import path) keeps its name.  ``name`` overrides
    the short name derived from the class; a derived name that a different rule holds is
    refused with that way out.
    """
    if ":" not in spec and spec in aggregators:
        return _keeps_its_name(spec, spec, name)
    derived, cls = resolve(spec)
    if not inspect.isclass(cls) and not callable(cls):
        raise RegistryError(f"--aggregator {spec}: {cls!r} is not a class")
    for known in aggregators.names():
        if aggregators.entry(known).factory is cls:
            return _keeps_its_name(spec, known, name)
    name = name or derived
    if name in aggregators:
        raise RegistryError(f"--aggregator {spec}: the name {name!r} belongs to the registered "
                            f"rule {aggregators.entry(name).factory.__module__}; choose another "
                            "with --aggregator-name NAME")

    def build(f: int = 0, **params: Any) -> ExternalAggregator:
        return ExternalAggregator(cls(f=f, **params), name, f)

    build.__doc__ = inspect.getdoc(cls) or f"External aggregator {spec}."
    aggregators.register(name, tags={"external"})(build)
    return name

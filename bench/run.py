"""The run layer every track shares: the protocol interface and the one runner.

A *protocol* (FedSGD, FedAvg, centralized retraining, personalized FL, online learning) is a
:class:`Protocol` subclass registered in :data:`bench.registry.protocols`.  It declares

* ``settings``: a frozen :class:`Settings` dataclass with defaults and validation, the part of a
  :class:`~bench.scenario.Scenario` that is the protocol's own;
* ``slots``: the registry each core component of a scenario is drawn from (``dataset``,
  ``model``, ``attack``, ``defense``, and ``pre`` for pre-aggregators where it takes them);
* ``metrics``: what it measures (:class:`MetricSpec`, the first one primary);
* ``grouping``: how the leaderboard lays out its records (:class:`Grouping`);

and implements :meth:`Protocol.execute`, which simulates one run and returns an
:class:`Outcome`.  :func:`run` owns everything around that: seeding, wall time, the divergence
verdict and the :class:`~bench.results.RunRecord`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from bench.registry import Registry, protocols

if TYPE_CHECKING:
    from bench.results import RunRecord
    from bench.scenario import Component, Scenario


@dataclass(frozen=True)
class Seeds:
    """``split`` fixes the data partition (and training subset); ``train`` everything else."""

    split: int = 0
    train: int = 0


@dataclass(frozen=True)
class Progress:
    """Reported by a protocol after each evaluated step (an epoch, an iteration, ...)."""

    step: int
    steps: int
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricSpec:
    """One metric a protocol reports: its unit and which direction is better.

    Units are free text read by people and tables; ``fraction`` values (accuracies in [0, 1])
    are shown as percentages.  ``higher_is_better`` is ``None`` for descriptive metrics.
    """

    name: str
    unit: str
    higher_is_better: bool | None
    summary: str


@dataclass(frozen=True)
class Table:
    """One more table per leaderboard group: ``metric`` over its own ``rows`` x ``columns``
    (names as in :class:`Grouping`), e.g. detectors x attacks for the online track's AUROC."""

    metric: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Grouping:
    """How the leaderboard lays out a protocol's records.

    Each name is a scenario field (``dataset``, ``model``, ``defense``, ``attack``), a
    settings field or one of the settings' display fields (:attr:`Settings.derived`).  One
    table per distinct value of ``groups``; rows by ``rows``, columns by ``columns``;
    ``baseline`` is the attack label whose column is the no-attack reference of each row (drops
    are measured against it).  ``secondary`` names further declared metrics each shown as one
    more ranked table per group, over the records that carry a value for it (FL: the backdoors'
    attack success rate), in the same layout, or as a :class:`Table` with its own.

    ``metric_columns``, where set, makes the main table one row per distinct ``rows`` x
    ``columns`` label with these metrics side by side, each in its own unit, in the rows'
    label order and not ranked (seed 000 Table 1: before / after / Δ per trigger and tricks).
    """

    rows: tuple[str, ...] = ("defense",)
    columns: tuple[str, ...] = ("attack",)
    groups: tuple[str, ...] = ("dataset", "model")
    baseline: str | None = "none"
    secondary: tuple[str | Table, ...] = ()
    metric_columns: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What :meth:`Protocol.execute` returns; :func:`run` makes the record from it.

    ``metrics`` holds every declared metric (``None`` where undefined for this run), ``curves``
    per-step series (e.g. ``test_accuracy`` per epoch), ``phases`` seconds spent by phase
    (``clients``, ``attack``, ``aggregation``, ...) and ``counters`` counts (``rounds``, ...).
    """

    metrics: dict[str, float | None]
    curves: dict[str, list[float]] = field(default_factory=dict)
    diagnostics: dict[str, float | None] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    diverged: bool = False


class SettingsError(ValueError):
    """A protocol setting out of its range or of the wrong type; names the field."""


@dataclass(frozen=True)
class Settings:
    """Base of every protocol's settings dataclass.

    Subclasses are frozen dataclasses whose ``__post_init__`` calls :meth:`check` helpers.
    Fields holding a :class:`~bench.scenario.Component` are component-valued settings (FL's
    ``split``); :meth:`component_slots` names their registries.
    """

    #: field name -> registry of component-valued settings
    component_registries: ClassVar[dict[str, Registry]] = {}
    #: display field (a property) -> the stored fields it shows, one-to-one; a leaderboard
    #: layout that names the display field places those fields
    derived: ClassVar[dict[str, tuple[str, ...]]] = {}

    def head(self) -> list[str]:
        """Id parts between the model and the defense (``iid`` for FL)."""
        return []

    def tail(self) -> list[str]:
        """Id parts after the attack (``n25f5``, ``b0.9`` for FL)."""
        return []

    def component_slots(self) -> Iterator[tuple[str, Registry, Component]]:
        for name, registry in self.component_registries.items():
            yield name, registry, getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        from bench.scenario import Component

        out: dict[str, Any] = {}
        for fld in fields(self):
            value = getattr(self, fld.name)
            if isinstance(value, Component):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[fld.name] = value
        return out

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "settings") -> Settings:
        """Build from YAML/JSON values: components parsed, lists made tuples, names checked."""
        from bench.scenario import Component

        if not isinstance(data, dict):
            raise SettingsError(f"{where}: expected a mapping, got {data!r}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise SettingsError(f"{where}: unknown setting(s) {unknown} for this protocol; "
                                f"known: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in cls.component_registries:
                value = Component.parse(value, f"{where}.{key}")
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[key] = value
        try:
            return cls(**kwargs)
        except SettingsError as err:
            raise SettingsError(f"{where}: {err}") from None


def check_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> None:
    """Raise :class:`SettingsError` unless ``value`` is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an integer, got {value!r}")
    _check_range(value, name, low, high)


def check_number(value: Any, name: str, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, high_open: bool = False) -> None:
    """Raise :class:`SettingsError` unless ``value`` is a finite number in the given range
    (``low_open``/``high_open`` exclude the bound itself)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise SettingsError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise SettingsError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_range(value: float, name: str, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise SettingsError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be <= {high}, got {value!r}")


class Protocol:
    """Base class of protocols; see the module docstring for what a subclass declares."""

    name: ClassVar[str]
    settings: ClassVar[type[Settings]]
    slots: ClassVar[dict[str, Registry]]
    metrics: ClassVar[tuple[MetricSpec, ...]]
    grouping: ClassVar[Grouping] = Grouping()

    @classmethod
    def primary(cls) -> MetricSpec:
        return cls.metrics[0]

    @classmethod
    def metric(cls, name: str) -> MetricSpec:
        for spec in cls.metrics:
            if spec.name == name:
                return spec
        known = ", ".join(m.name for m in cls.metrics)
        raise KeyError(f"protocol {cls.name} has no metric {name!r}; it reports: {known}")

    def reference_table(self, raw: dict[str, Any], where: str) -> Any:
        """A grid's ``references`` section as an object whose ``lookup(scenario)`` gives each
        case its published value: by default a printed results table of attacks x (defense,
        beta) columns (:class:`bench.references.ReferenceTable`)."""
        from bench.references import ReferenceTable

        return ReferenceTable(raw, where)

    def validate(self, scenario: Scenario) -> None:
        """Preconditions that need the whole scenario (e.g. a rule's bound on ``f``); raise
        ``ValueError`` naming the field."""

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None) -> Outcome:
        raise NotImplementedError


def protocol_of(name: str) -> Protocol:
    """The registered protocol ``name`` (a clear error listing the known ones otherwise)."""
    return protocols.make(name)


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (protocols use their own
    generators too; this guards library code that draws from the global ones)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(scenario: Scenario, seeds: Seeds = Seeds(), device: str = "cpu", tier: str = "smoke",
        progress: Callable[[Progress], None] | None = None, **overrides: Any) -> RunRecord:
    """Simulate ``scenario`` once for ``seeds`` on ``device`` and return its record.

    The protocol's primary metric being non-finite, or the protocol saying so, marks the run as
    diverged.  ``overrides`` go to the protocol (the gate passes a live aggregator).
    """
    protocol = protocol_of(scenario.protocol)
    seed_everything(seeds.train)
    dev = torch.device(device)
    start = time.perf_counter()
    outcome = protocol.execute(scenario, seeds, dev, progress, **overrides)
    return make_record(scenario, seeds, dev, tier, outcome, time.perf_counter() - start)


def make_record(scenario: Scenario, seeds: Seeds, device: torch.device, tier: str,
                outcome: Outcome, wall: float) -> RunRecord:
    """The record of ``scenario`` at ``seeds`` from its protocol's ``outcome`` and ``wall``
    seconds (:func:`run`'s second half, shared with runners that execute runs together)."""
    from bench.results import Metrics, RunRecord, Timing, environment

    protocol = protocol_of(scenario.protocol)
    primary = protocol.primary()
    value = outcome.metrics.get(primary.name)
    diverged = outcome.diverged or value is None or not np.isfinite(value)
    return RunRecord(
        scenario=scenario.to_dict(),
        seeds={"split": seeds.split, "train": seeds.train},
        metrics=Metrics(
            primary=primary.name,
            values={k: _finite_or_none(v) for k, v in outcome.metrics.items()},
            units={m.name: m.unit for m in protocol.metrics},
            curves=outcome.curves,
            diverged=bool(diverged),
            diagnostics={k: _finite_or_none(v) for k, v in outcome.diagnostics.items()},
        ),
        timing=Timing(wall_s=wall, phases=dict(outcome.phases), counters=dict(outcome.counters)),
        environment=environment(str(device)),
        config_hash=scenario.config_hash(),
        tier=tier,
    )


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None

"""Benchmark grids: YAML files that expand into cases (scenario x seeds x expectation).

A grid file looks like::

    tier: smoke
    protocol: fedsgd        # a registered protocol (default fedsgd)
    seeds: [0]              # training seeds; each case runs all and asserts on the median
    split_seed: 0
    defaults: {n: 25, f: 5, batch_size: 16, epochs: 30, lr: 0.1, lr_milestones: [25]}
    settings:               # dataset x model, plus any of the protocol's settings
      - {dataset: digits, model: mlp, split: iid}
    vary: {beta: [0.0, 0.9]}   # settings to take the product over
    defenses: [mean, {name: cc, params: {tau: 1.0}}, {name: rfa, pre: [bucketing]}]
    attacks: [none, alie, rop]
    expect:
      floor: 0.8            # minimal median primary metric of every case
      cells:                # overrides matched on defense/attack/dataset/model or any setting
        - {defense: mean, attack: alie, floor: 0.3}
        - {defense: mean, attack: nan, floor: 0.0, ceiling: 0.15}   # the attack must bite
        - {attack: rop, bounds: {best_accuracy: [0.5, 1.0]}}        # other metrics' ranges
    exclude:                # cells not expanded (matched like expect.cells; each must match one)
      - {defense: mean, attack: rop}
    measured: smoke        # committed per-cell medians and tolerances: references/smoke.yaml
    timing:                 # one aggregation may cost at most this many plain means
      max_cost_over_mean: {default: 300, fldetector: 900}   # (measured in the same run)

Every name is checked against the protocol's registries, every parameter against its factory,
every setting against the protocol's settings dataclass, and each scenario against the
protocol's own preconditions (a rule's bound on ``f``, a batch per client), so a typo fails at
load time with the file and field named.  Case ids are unique over every grid loaded together.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bench.measured import Measured, ReferenceFileError, load_references
from bench.printed_rows import RowReference
from bench.references import Reference
from bench.registry import RegistryError, aggregators
from bench.run import Protocol, SettingsError, protocol_of
from bench.scenario import Component, Defense, Scenario

GRID_KEYS = {"tier", "protocol", "seeds", "split_seed", "defaults", "settings", "vary",
             "defenses", "attacks", "expect", "timing", "description", "references", "measured",
             "exclude"}
TIERS = ("smoke", "standard", "paper", "gate")
CORE_MATCH_KEYS = ("defense", "attack", "dataset", "model")
RULE_KEYS = {"floor", "ceiling", "xfail", "bounds"}


class GridError(ValueError):
    """A malformed grid file; the message names the file and the field."""


@dataclass(frozen=True)
class Case:
    """One test case: a scenario run for several training seeds, and what it must achieve.

    The median of the protocol's primary metric over seeds must reach ``floor``; where
    ``ceiling`` is set (an attack expected to break the defense) it must also stay at or below
    it.  ``bounds`` gives ``[low, high]`` ranges for other metrics' medians.  ``xfail`` holds
    the measured reason of a cell expected to fail (run as a strict expected failure).
    """

    scenario: Scenario
    seeds: tuple[int, ...]
    split_seed: int
    tier: str
    floor: float
    ceiling: float | None = None
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_cost_over_mean: float | None = None
    reference: Reference | RowReference | None = None
    xfail: str | None = None
    source: str = ""
    measured: Measured | None = None
    measured_file: str | None = None

    @property
    def id(self) -> str:
        """The scenario's label, with the tier appended outside the default smoke tier, so ids
        are unique across tiers whose grids share a layout."""
        label = self.scenario.label
        return label if self.tier == "smoke" else f"{label}-{self.tier}"

    @property
    def components(self) -> tuple[str, ...]:
        return self.scenario.components

    @property
    def protocol(self) -> Protocol:
        return protocol_of(self.scenario.protocol)


def load_grid(path: Path) -> list[Case]:
    """Expand the grid file at ``path`` into cases, validating every field."""
    where = str(path)
    path = Path(path)
    if path.is_dir():
        raise GridError(f"{where}: is a folder, not a grid file")
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise GridError(f"{where}: no such grid file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise GridError(f"{where}: cannot read: {err}") from None
    except yaml.YAMLError as err:
        raise GridError(f"{where}: not valid YAML: {err}") from None
    return expand_grid(raw, where)


def load_grids(paths: list[Path]) -> list[Case]:
    """Cases of several grids, with ids checked unique across all of them."""
    cases = [case for path in paths for case in load_grid(path)]
    check_unique(cases)
    return cases


def check_unique(cases: list[Case]) -> None:
    seen: dict[str, Case] = {}
    for case in cases:
        other = seen.setdefault(case.id, case)
        if other is not case:
            raise GridError(f"{case.source}: case id {case.id} also comes from {other.source}; "
                            "two cases with one id would share runs and records")


def expand_grid(raw: Any, where: str) -> list[Case]:
    """Expand an already parsed grid mapping; ``where`` names it in errors."""
    if not isinstance(raw, dict):
        raise GridError(f"{where}: expected a mapping at the top level")
    unknown = set(raw) - GRID_KEYS
    if unknown:
        raise GridError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(GRID_KEYS)}")
    for key in ("tier", "settings", "defenses", "attacks"):
        if key not in raw:
            raise GridError(f"{where}: missing required key {key!r}")
    cases = list(_expand(raw, where))
    check_unique(cases)
    return cases


def _list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw[key]
    if not isinstance(value, list) or not value:
        raise GridError(f"{where}: {key} must be a non-empty list, got {value!r}")
    return value


def _seeds(raw: dict[str, Any], where: str) -> tuple[int, ...]:
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds:
        raise GridError(f"{where}: seeds must be a non-empty list of integers, got {seeds!r}")
    for i, seed in enumerate(seeds):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise GridError(f"{where}: seeds[{i}] must be an integer >= 0, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise GridError(f"{where}: seeds has duplicates: {seeds}")
    return tuple(seeds)


def _protocol(raw: dict[str, Any], where: str) -> Protocol:
    try:
        return protocol_of(str(raw.get("protocol", "fedsgd")))
    except RegistryError as err:
        raise GridError(f"{where}: protocol: {err}") from None


def _fraction_check(protocol: Protocol, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise GridError(f"{where}: expected a number, got {value!r}")
    if protocol.primary().unit == "fraction" and not 0 <= value <= 1:
        raise GridError(f"{where}: {protocol.primary().name} is a fraction in [0, 1], got "
                        f"{value!r} (write 0.95 for 95%)")
    return float(value)


def _bounds(protocol: Protocol, raw: Any, where: str) -> dict[str, tuple[float, float]]:
    if not isinstance(raw, dict):
        raise GridError(f"{where}: bounds must map metric names to [low, high], got {raw!r}")
    out = {}
    for name, pair in raw.items():
        if not any(m.name == name for m in protocol.metrics):
            known = ", ".join(m.name for m in protocol.metrics)
            raise GridError(f"{where}.{name}: protocol {protocol.name} has no metric {name!r}; "
                            f"it reports: {known}")
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in pair) or pair[0] > pair[1]):
            raise GridError(f"{where}.{name}: expected [low, high] with low <= high, got {pair!r}")
        out[name] = (float(pair[0]), float(pair[1]))
    return out


def _rules(protocol: Protocol, expect: dict[str, Any], where: str) -> list[dict[str, Any]]:
    rules = expect.get("cells") or []
    if not isinstance(rules, list):
        raise GridError(f"{where}: expect.cells must be a list, got {rules!r}")
    match_keys = set(CORE_MATCH_KEYS) | set(protocol.settings.field_names())
    for i, rule in enumerate(rules):
        at = f"{where}: expect.cells[{i}]"
        if not isinstance(rule, dict):
            raise GridError(f"{at}: expected a mapping, got {rule!r}")
        bad = set(rule) - match_keys - RULE_KEYS
        if bad:
            raise GridError(f"{at}: unknown key(s) {sorted(bad)}; match on "
                            f"{sorted(match_keys)} and set {sorted(RULE_KEYS)}")
        for key in ("floor", "ceiling"):
            if key in rule:
                _fraction_check(protocol, rule[key], f"{at}.{key}")
        if "bounds" in rule:
            _bounds(protocol, rule["bounds"], f"{at}.bounds")
    return rules


def _excluded(protocol: Protocol, raw: Any, where: str) -> list[dict[str, Any]]:
    """``exclude``: match rules (keys as in ``expect.cells``) of cells left out of the grid."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise GridError(f"{where}: exclude must be a list of match rules, got {raw!r}")
    match_keys = set(CORE_MATCH_KEYS) | set(protocol.settings.field_names())
    for i, rule in enumerate(raw):
        if not isinstance(rule, dict) or not rule or set(rule) - match_keys:
            raise GridError(f"{where}: exclude[{i}]: expected a mapping of {sorted(match_keys)}"
                            f", got {rule!r}")
    return raw


def _cost_bounds(timing: Any, where: str) -> dict[str, float]:
    """``timing.max_cost_over_mean``: aggregator name (or ``default``) -> bound."""
    if timing is None:
        return {}
    if not isinstance(timing, dict) or set(timing) - {"max_cost_over_mean"}:
        raise GridError(f"{where}: timing: only max_cost_over_mean is known, got {timing!r}")
    bounds = timing.get("max_cost_over_mean") or {}
    if not isinstance(bounds, dict):
        raise GridError(f"{where}: timing.max_cost_over_mean must map aggregator names (or "
                        f"'default') to bounds, got {bounds!r}")
    for name, bound in bounds.items():
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound <= 0:
            raise GridError(f"{where}: timing.max_cost_over_mean.{name} must be a number > 0, "
                            f"got {bound!r}")
        if name != "default" and name not in aggregators:
            raise GridError(f"{where}: timing.max_cost_over_mean.{name}: unknown aggregator")
    return {str(k): float(v) for k, v in bounds.items()}


def _match(rule: dict[str, Any], scenario: Scenario) -> bool:
    for key, wanted in rule.items():
        if key in RULE_KEYS:
            continue
        if key in CORE_MATCH_KEYS:
            part = getattr(scenario, key)
            values = (part.label, part.aggregator.name if key == "defense" else part.name)
        else:
            value = getattr(scenario.settings, key)
            values = (value.label, value.name) if isinstance(value, Component) else (value,)
        if wanted not in values:
            return False
    return True


def validate_components(protocol: Protocol, scenario: Scenario, where: str) -> None:
    """Check every component of ``scenario`` against the registry of its slot."""
    slots = protocol.slots
    checks = [
        (slots["dataset"], scenario.dataset, "dataset"),
        (slots["model"], scenario.model, "model"),
        (slots["attack"], scenario.attack, "attack"),
        (slots["defense"], scenario.defense.aggregator, "defense"),
        *((registry, comp, name) for name, registry, comp in scenario.settings.component_slots()),
    ]
    if scenario.defense.pre:
        if "pre" not in slots:
            raise GridError(f"{where}: defense: protocol {protocol.name} takes no "
                            "pre-aggregators ('pre')")
        checks += [(slots["pre"], p, "defense.pre") for p in scenario.defense.pre]
    for registry, component, key in checks:
        try:
            entry = registry.entry(component.name)
            accepted = entry.parameters()
            unknown = sorted(set(component.params) - set(accepted))
            if unknown and not entry.accepts_any_keyword():
                raise RegistryError(
                    f"{registry.kind} {component.name!r} got unknown parameter(s) "
                    f"{', '.join(unknown)}; it accepts: {', '.join(accepted) or '(none)'}")
        except RegistryError as err:
            raise GridError(f"{where}: {key}: {err}") from None


def _expand(raw: dict[str, Any], where: str) -> Iterator[Case]:
    tier = raw["tier"]
    if tier not in TIERS:
        raise GridError(f"{where}: tier must be one of {', '.join(TIERS)}, got {tier!r}")
    protocol = _protocol(raw, where)
    seeds = _seeds(raw, where)
    split_seed = raw.get("split_seed", 0)
    if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
        raise GridError(f"{where}: split_seed must be an integer >= 0, got {split_seed!r}")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise GridError(f"{where}: defaults must be a mapping of settings, got {defaults!r}")
    vary = raw.get("vary") or {}
    if not isinstance(vary, dict) or not all(isinstance(v, list) and v for v in vary.values()):
        raise GridError(f"{where}: vary must map settings to non-empty lists, got {vary!r}")
    expect = raw.get("expect")
    if not isinstance(expect, dict) or "floor" not in expect:
        raise GridError(f"{where}: expect.floor is required")
    bad = set(expect) - {"floor", "ceiling", "cells"}
    if bad:
        raise GridError(f"{where}: expect: unknown key(s) {sorted(bad)}")
    floor = _fraction_check(protocol, expect["floor"], f"{where}: expect.floor")
    rules = _rules(protocol, expect, where)
    share = _cost_bounds(raw.get("timing"), where)
    excluded = _excluded(protocol, raw.get("exclude"), where)
    hits = [0] * len(excluded)
    try:
        table = (protocol.reference_table(raw["references"], where) if "references" in raw
                 else None)
    except (KeyError, TypeError, ValueError) as err:
        raise GridError(f"{where}: references: {err}") from None
    measured_file = None
    measured: dict[str, Measured] = {}
    if "measured" in raw:
        measured_file = str(Path(where).parent / "references" / f"{raw['measured']}.yaml")
        try:
            measured = load_references(Path(measured_file))
        except ReferenceFileError as err:
            raise GridError(f"{where}: measured: {err}") from None
    try:
        defenses = [Defense.parse(d, f"{where}: defenses[{i}]")
                    for i, d in enumerate(_list(raw, "defenses", where))]
        attack_specs = [Component.parse(a, f"{where}: attacks[{i}]")
                        for i, a in enumerate(_list(raw, "attacks", where))]
    except ValueError as err:
        raise GridError(str(err)) from None
    for i, setting in enumerate(_list(raw, "settings", where)):
        at = f"{where}: settings[{i}]"
        if not isinstance(setting, dict) or not {"dataset", "model"} <= set(setting):
            raise GridError(f"{at}: needs dataset and model")
        try:
            dataset = Component.parse(setting["dataset"], f"{at}.dataset")
            model = Component.parse(setting["model"], f"{at}.model")
        except ValueError as err:
            raise GridError(str(err)) from None
        local = {**defaults, **{k: v for k, v in setting.items() if k not in ("dataset", "model")}}
        for values in itertools.product(*vary.values()):
            fields_ = {**local, **dict(zip(vary, values, strict=True))}
            try:
                settings = protocol.settings.from_dict(fields_, f"{at} (with defaults)")
            except (SettingsError, ValueError, TypeError) as err:
                raise GridError(str(err)) from None
            for defense, attack in itertools.product(defenses, attack_specs):
                scenario = Scenario(protocol.name, dataset, model, defense, attack, settings)
                matched = [i for i, rule in enumerate(excluded) if _match(rule, scenario)]
                for i in matched:
                    hits[i] += 1
                if matched:
                    continue
                validate_components(protocol, scenario, at)
                try:
                    protocol.validate(scenario)
                except (RegistryError, ValueError) as err:
                    raise GridError(f"{at}: {scenario.label}: {err}") from None
                try:
                    case = _case(protocol, scenario, seeds, split_seed, tier, floor, rules,
                                 share, table, where)
                except ValueError as err:  # a scenario matching two reference rows
                    raise GridError(str(err)) from None
                if measured_file is not None:
                    case = replace(case, measured=measured.get(scenario.config_hash()),
                                   measured_file=measured_file)
                yield case
    for rule, count in zip(excluded, hits, strict=True):
        if not count:
            raise GridError(f"{where}: exclude rule {rule} matches no cell")
    unused = getattr(table, "unused", None)  # tables that know their rows name unused ones
    if unused is not None and unused():
        raise GridError(f"{where}: references row(s) matching no case: {'; '.join(unused())}")


def _case(protocol: Protocol, scenario: Scenario, seeds: tuple[int, ...], split_seed: int,
          tier: str, floor: float, rules: list[dict[str, Any]], share: dict[str, float],
          table: Any, where: str) -> Case:
    ceiling = xfail = None
    bounds: dict[str, tuple[float, float]] = {}
    for rule in rules:
        if _match(rule, scenario):
            floor = float(rule.get("floor", floor))
            ceiling = float(rule["ceiling"]) if "ceiling" in rule else ceiling
            xfail = str(rule["xfail"]) if "xfail" in rule else xfail
            bounds.update(_bounds(protocol, rule.get("bounds", {}), where))
    return Case(
        scenario=scenario,
        seeds=seeds,
        split_seed=split_seed,
        tier=tier,
        floor=floor,
        ceiling=ceiling,
        bounds=bounds,
        max_cost_over_mean=share.get(scenario.defense.aggregator.name, share.get("default")),
        reference=table.lookup(scenario) if table else None,
        xfail=xfail,
        source=where,
    )

"""The full configuration of one simulated run, and the labels test ids are made of."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run import Settings


def format_value(value: Any) -> str:
    """A setting value as test ids show it: ``0.9``, ``1`` for ``1.0``, ``3x4`` for lists."""
    if isinstance(value, (list, tuple)):
        return "x".join(format_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value) if abs(value) >= 1 else value
    return str(value).replace(" ", "")


@dataclass(frozen=True)
class Component:
    """A registered component by short name with explicit parameters, e.g. ``cc`` with tau=0.1.

    Its :attr:`label` (``cc_tau0.1``) is what test ids and leaderboards show: the short name
    first, so ``pytest -k cc`` selects it, then each explicit parameter.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        suffix = "".join(f"_{k}{format_value(v)}" for k, v in sorted(self.params.items()))
        return self.name + suffix

    @classmethod
    def parse(cls, spec: Any, where: str) -> Component:
        """From YAML: either ``"name"`` or ``{"name": ..., "params": {...}}``."""
        if isinstance(spec, str):
            return cls(spec)
        if isinstance(spec, dict) and "name" in spec:
            extra = set(spec) - {"name", "params"}
            if extra:
                raise ValueError(f"{where}: unexpected key(s) {sorted(extra)} in {spec!r}")
            params = spec.get("params") or {}
            if not isinstance(params, dict):
                raise ValueError(f"{where}: 'params' must be a mapping, got {params!r}")
            return cls(str(spec["name"]), dict(params))
        raise ValueError(f"{where}: expected a name or {{name, params}}, got {spec!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}

    def __hash__(self) -> int:
        return hash((self.name, json.dumps(self.params, sort_keys=True, default=str)))


@dataclass(frozen=True)
class Defense:
    """Pre-aggregators applied in order, then an aggregator (``bucketing+rfa``)."""

    aggregator: Component
    pre: tuple[Component, ...] = ()

    @property
    def label(self) -> str:
        return "+".join([p.label for p in self.pre] + [self.aggregator.label])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pre) + (self.aggregator.name,)

    @classmethod
    def parse(cls, spec: Any, where: str) -> Defense:
        """From YAML: a component spec, optionally with ``pre: [component, ...]``."""
        if isinstance(spec, dict) and "pre" in spec:
            pre = spec.get("pre") or []
            if not isinstance(pre, list):
                raise ValueError(f"{where}: 'pre' must be a list, got {pre!r}")
            rest = {k: v for k, v in spec.items() if k != "pre"}
            return cls(
                Component.parse(rest, where),
                tuple(Component.parse(p, f"{where}.pre[{i}]") for i, p in enumerate(pre)),
            )
        return cls(Component.parse(spec, where))

    def to_dict(self) -> dict[str, Any]:
        return {"aggregator": self.aggregator.to_dict(), "pre": [p.to_dict() for p in self.pre]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "defense") -> Defense:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or "aggregator" not in data:
            raise ValueError(f"{where}: expected {{aggregator, pre}}, got {data!r}")
        pre = data.get("pre") or []
        if not isinstance(pre, list):
            raise ValueError(f"{where}.pre: expected a list, got {pre!r}")
        return cls(Component.parse(data["aggregator"], f"{where}.aggregator"),
                   tuple(Component.parse(p, f"{where}.pre[{i}]") for i, p in enumerate(pre)))


@dataclass(frozen=True)
class Scenario:
    """Every setting of one simulated run except the seeds and the device.

    A common core -- the ``protocol``'s name and the ``dataset``, ``model``, ``defense`` and
    ``attack`` components -- plus ``settings``, an instance of that protocol's
    :class:`~bench.run.Settings` dataclass (FL's clients, momentum and budget, say).
    """

    protocol: str
    dataset: Component
    model: Component
    defense: Defense
    attack: Component
    settings: Settings

    def __post_init__(self) -> None:
        from bench.run import protocol_of

        expected = protocol_of(self.protocol).settings
        if type(self.settings) is not expected:
            raise ValueError(f"protocol {self.protocol!r} takes {expected.__name__}, got "
                             f"{type(self.settings).__name__}")

    def value(self, name: str) -> Any:
        """A core field's label or a setting's value by name (what groupings refer to)."""
        if name in ("dataset", "model", "defense", "attack"):
            return getattr(self, name).label
        if name == "protocol":
            return self.protocol
        value = getattr(self.settings, name)
        return value.label if isinstance(value, Component) else value

    @property
    def components(self) -> tuple[str, ...]:
        """Registered names this scenario uses (what ``pytest -k`` selects on); a data set that
        wraps another (``clusterpop`` with ``base: box2d``) uses that one too."""
        from bench.registry import datasets

        wrapped = [v for v in self.dataset.params.values() if isinstance(v, str) and v in datasets]
        return (
            self.protocol,
            self.dataset.name,
            *wrapped,
            self.model.name,
            *(c.name for _, _, c in self.settings.component_slots()),
            *self.defense.names,
            self.attack.name,
        )

    @property
    def label(self) -> str:
        """``protocol-dataset-model-HEAD-defense-attack-TAIL``: the test id of this scenario,
        with HEAD and TAIL from the settings (``iid`` and ``n25f5-b0.9`` for FedSGD)."""
        return "-".join([
            self.protocol,
            self.dataset.label,
            self.model.label,
            *self.settings.head(),
            self.defense.label,
            self.attack.label,
            *self.settings.tail(),
        ])

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "dataset": self.dataset.to_dict(),
            "model": self.model.to_dict(),
            "defense": self.defense.to_dict(),
            "attack": self.attack.to_dict(),
            "settings": self.settings.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        from bench.run import protocol_of

        known = {"protocol", "dataset", "model", "defense", "attack", "settings"}
        unknown = sorted(set(data) - known)
        missing = sorted(known - set(data))
        if unknown or missing:
            raise ValueError(f"scenario: unknown field(s) {unknown}, missing {missing}")
        return cls(
            protocol=str(data["protocol"]),
            dataset=Component.parse(data["dataset"], "scenario.dataset"),
            model=Component.parse(data["model"], "scenario.model"),
            defense=Defense.from_dict(data["defense"], "scenario.defense"),
            attack=Component.parse(data["attack"], "scenario.attack"),
            settings=protocol_of(str(data["protocol"])).settings.from_dict(
                data["settings"], "scenario.settings"),
        )

    def config_hash(self) -> str:
        """Stable short hash of the configuration (seeds and device excluded)."""
        return config_hash(self.to_dict())


def config_hash(configuration: dict[str, Any]) -> str:
    """Short SHA-256 of a configuration mapping in canonical JSON."""
    blob = json.dumps(configuration, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]

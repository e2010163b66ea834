"""The gate a new aggregator must pass: attack floors, a margin to a reference rule, and cost.

``cases/grids/gate.yaml`` declares it::

    reference: {name: cc, params: {tau: 1.0}}   # the defense to stay close to
    floor: 0.6                                   # every attack: candidate accuracy >= floor
    margin: 0.10                                 # worst case >= reference worst case - margin
    cost: {n: 25, d: 100000, repeats: 7, max_ratio_to_mean: 100}
    grid: {...}                                  # a grid without defenses (see bench.grid)

The candidate runs the grid against every attack; its worst-case accuracy over attacks must
stay above ``floor`` and within ``margin`` of the reference rule's worst case on the same
grid, and one aggregation of a ``Tensor[n, d]`` may cost at most ``max_ratio_to_mean`` times
one ``mean`` aggregation measured side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from bench.aggregators.base import Aggregator
from bench.grid import Case, GridError, expand_grid
from bench.registry import aggregators
from bench.scenario import Component, Defense

GATE_KEYS = {"description", "reference", "floor", "margin", "cost", "grid"}


@dataclass(frozen=True)
class GateSpec:
    reference: Defense
    floor: float
    margin: float
    cost: dict[str, Any]
    grid: dict[str, Any]
    where: str

    def cases(self, defense: Defense) -> list[Case]:
        """The gate grid's cases with ``defense`` as the only defense."""
        raw = dict(self.grid)
        raw["defenses"] = [{
            "name": defense.aggregator.name,
            "params": defense.aggregator.params,
            "pre": [{"name": p.name, "params": p.params} for p in defense.pre],
        }]
        raw.setdefault("expect", {"floor": self.floor})
        return expand_grid(raw, self.where)


def load_gate(path: Path) -> GateSpec:
    where = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise GridError(f"{where}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise GridError(f"{where}: expected a mapping at the top level")
    unknown = set(raw) - GATE_KEYS
    missing = {"reference", "floor", "margin", "cost", "grid"} - set(raw)
    if unknown or missing:
        raise GridError(f"{where}: unknown key(s) {sorted(unknown)}, missing {sorted(missing)}")
    if "defenses" in raw["grid"]:
        raise GridError(f"{where}: grid: the gate supplies the defense; remove 'defenses'")
    return GateSpec(
        reference=Defense.parse(raw["reference"], f"{where}: reference"),
        floor=float(raw["floor"]),
        margin=float(raw["margin"]),
        cost=dict(raw["cost"]),
        grid=dict(raw["grid"]),
        where=where,
    )


def _seconds(rule: Aggregator, updates: torch.Tensor) -> float:
    rule.reset()
    if updates.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    rule(updates)
    if updates.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def cost_ratio(candidate: Component, f: int, n: int, d: int, repeats: int,
               device: str = "cpu", seed: int = 0) -> float:
    """Fastest time of one ``candidate`` aggregation over the fastest ``mean`` aggregation,
    calls alternating on the same random ``Tensor[n, d]`` after one warm-up call each.  The
    minimum over repeats is the estimate least disturbed by other load on the machine."""
    gen = torch.Generator().manual_seed(seed)
    updates = torch.randn(n, d, generator=gen).to(device)
    rule = aggregators.make_with_optional(candidate.name, {"f": f}, **candidate.params)
    mean = aggregators.make("mean")
    rule_s, mean_s = [], []
    for _ in range(repeats + 1):
        rule_s.append(_seconds(rule, updates))
        mean_s.append(_seconds(mean, updates))
    return min(rule_s[1:]) / min(mean_s[1:])

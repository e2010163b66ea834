"""Seed 000 Table 1 as a grid's references: one printed row of before / after / Δ per cell.

The ``references`` section of an ``online`` grid lists the table's rows as printed (accuracy
in %, ``mean`` or ``mean±std``), each with the fields that pick its cell: ``attack``,
``defense``, ``dataset``, ``model`` or any setting of the protocol::

    references:
      source: seed 000 Table 1
      delta: {stds: 2, points: 1.5}                  # |Δ - Δ_paper| <= max(2 std, 1.5)
      before: {points: 1.5, where: {attack: none}}   # |before - before_paper| <= 1.5
      rows:
        - {trigger: clean, attack: none, before: "82.99", after: "83.58", delta: "+0.59"}

A case's median Δ (after minus before the trigger, in points) must lie within
``max(stds · std_Δ, points)`` of the row's expected Δ, and, for the rows matched by
``before.where`` (the trigger alone: the burned-in model itself), its median accuracy before the
trigger within ``before.points`` of the printed value.

**Errata** (:class:`bench.printed_rows.RowReference`): a row whose printed Δ disagrees with its
own ``after - before`` beyond rounding (notes §II.6: "ε = 8/255 + optimizing P" prints −5.74
for 75.26 − 80.00 = −4.74) is checked against ``after - before``, and its record and verdict
say so.
"""

from __future__ import annotations

import math
from typing import Any

from bench.printed_rows import RowReference, parse_printed
from bench.scenario import Component, Scenario

COLUMNS = ("before", "after", "delta")
CORE = ("attack", "defense", "dataset", "model")


def _matches(fields: dict[str, Any], scenario: Scenario) -> bool:
    for key, wanted in fields.items():
        if key in CORE:
            part = getattr(scenario, key)
            name = part.aggregator.name if key == "defense" else part.name
            if wanted not in (part.label, name):
                return False
            continue
        value = getattr(scenario.settings, key)
        if isinstance(value, Component):
            if wanted not in (value.label, value.name):
                return False
        elif isinstance(value, float) and isinstance(wanted, (int, float)):
            if not math.isclose(value, wanted, rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif value != wanted:
            return False
    return True


class TriggerTable:
    """The row-form ``references`` section of a grid, answering :meth:`lookup` per scenario.

    Every row must pick exactly one case of the grid; :meth:`unused` names the rows that
    picked none (a typo), and :meth:`lookup` raises when a scenario matches two rows.
    """

    def __init__(self, raw: dict[str, Any], where: str, setting_names: set[str]) -> None:
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: references must be a mapping, got {raw!r}")
        unknown = set(raw) - {"source", "delta", "before", "rows"}
        if unknown:
            raise ValueError(f"{where}: references: unknown key(s) {sorted(unknown)}")
        self.source = str(raw.get("source", ""))
        delta = raw.get("delta") or {}
        self.stds = self._number(delta, "stds", f"{where}: references.delta", 2.0)
        self.points = self._number(delta, "points", f"{where}: references.delta", 1.5)
        before = raw.get("before")
        self.before_points = None if before is None else self._number(
            before, "points", f"{where}: references.before", None)
        self.before_where = {} if before is None else dict(before.get("where") or {})
        keys = set(CORE) | setting_names
        rows = raw.get("rows")
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{where}: references.rows must be a non-empty list")
        self.rows: list[tuple[dict[str, Any], RowReference]] = []
        for i, row in enumerate(rows):
            at = f"{where}: references.rows[{i}]"
            if not isinstance(row, dict) or set(COLUMNS) - set(row):
                raise ValueError(f"{at}: needs {', '.join(COLUMNS)}, got {row!r}")
            fields = {k: v for k, v in row.items() if k not in COLUMNS}
            bad = sorted(set(fields) - keys)
            if bad or not fields:
                raise ValueError(f"{at}: match on {sorted(keys)}, got {sorted(fields)}")
            values = {c: parse_printed(row[c], f"{at}.{c}") for c in COLUMNS}
            label = ", ".join(f"{k}={v}" for k, v in fields.items())
            checked = self.before_points is not None and all(
                fields.get(k) == v for k, v in self.before_where.items())
            self.rows.append((fields, RowReference(
                label, values["before"], values["after"], values["delta"],
                max(self.stds * (values["delta"].std or 0.0), self.points),
                self.before_points if checked else None, self.source)))
        self.where = where
        self.used: set[int] = set()

    @staticmethod
    def _number(raw: Any, key: str, where: str, default: float | None) -> float:
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be a mapping, got {raw!r}")
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{where}.{key} must be a number >= 0, got {value!r}")
        return float(value)

    def lookup(self, scenario: Scenario) -> RowReference | None:
        """The row of ``scenario``'s cell, or ``None`` if no row picks it."""
        found = [i for i, (fields, _) in enumerate(self.rows) if _matches(fields, scenario)]
        if len(found) > 1:
            labels = "; ".join(self.rows[i][1].label for i in found)
            raise ValueError(f"{self.where}: {scenario.label} matches {len(found)} reference "
                             f"rows ({labels})")
        if not found:
            return None
        self.used.add(found[0])
        return self.rows[found[0]][1]

    def unused(self) -> list[str]:
        """Labels of the rows that picked no case so far."""
        return [ref.label for i, (_, ref) in enumerate(self.rows) if i not in self.used]

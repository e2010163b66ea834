"""Published reference values attached to grid cases, and how a measured accuracy is judged.

A grid's ``references`` section holds a results table as printed (accuracy % as
``mean±std``), one row per attack and one column per (defense, beta)::

    references:
      source: seed 003 Table IV
      columns: [{defense: cc_tau0.1, beta: 0.0}, ...]
      tolerance: {default: 3.0, cifar10: 7.0}     # points, for low-variance cells
      bimodal_std: 5.0
      settings:
        fashion-mnist-iid: {rop: [68.52±0.73, ...], alie: [...]}

Tolerances follow the variance the paper reports: a cell with std <= 2 must land within the
dataset's tolerance; 2 < std <= ``bimodal_std`` within tolerance + std; a cell with a larger std
(e.g. ``52.74±43.0``: some runs diverged, some converged) is only checked as
diverged-or-converged: at most chance + 5 points, or within 5 points of the column's best
attack.  No-attack baselines have no printed values: they must reach the column's best attacked
accuracy minus the tolerance, except cells listed under ``fails_without_attack``, which the
paper reports as failing to converge and are recorded without a check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bench.scenario import Scenario

CELL = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*±\s*(\d+(?:\.\d+)?)\s*$")
MARGIN = 5.0


@dataclass(frozen=True)
class Reference:
    """What a case is checked against, in accuracy points (0-100)."""

    mean: float | None
    std: float | None
    tolerance: float
    column_best: float
    bimodal: bool = False
    source: str = ""

    def verdict(self, accuracy: float, num_classes: int) -> str | None:
        """``None`` when ``accuracy`` (a fraction) agrees with the reference, else why not."""
        acc = 100 * accuracy
        chance = 100 / num_classes
        if self.bimodal:
            if acc <= chance + MARGIN or acc >= self.column_best - MARGIN:
                return None
            return (f"{acc:.2f}% is neither diverged (<= {chance + MARGIN:.1f}) nor converged "
                    f"(>= {self.column_best - MARGIN:.1f}); paper {self.mean}±{self.std}")
        if self.mean is None:
            floor = self.column_best - self.tolerance
            if acc >= floor:
                return None
            return (f"no-attack accuracy {acc:.2f}% is below the column's best attacked "
                    f"accuracy {self.column_best} minus {self.tolerance} points")
        if abs(acc - self.mean) <= self.tolerance:
            return None
        return (f"{acc:.2f}% is {acc - self.mean:+.2f} points from the paper's "
                f"{self.mean}±{self.std} (tolerance {self.tolerance})")


def parse_cell(text: Any, where: str) -> tuple[float, float]:
    match = CELL.match(str(text))
    if not match:
        raise ValueError(f"{where}: expected 'mean±std', got {text!r}")
    return float(match.group(1)), float(match.group(2))


class ReferenceTable:
    """The ``references`` section of a grid, answering :meth:`lookup` per scenario."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.where = where
        self.source = str(raw.get("source", ""))
        self.columns = [(str(c["defense"]), float(c["beta"])) for c in raw["columns"]]
        self.tolerance = {str(k): float(v) for k, v in raw.get("tolerance", {}).items()}
        if "default" not in self.tolerance:
            raise ValueError(f"{where}: references.tolerance needs a 'default'")
        self.bimodal_std = float(raw.get("bimodal_std", 5.0))
        self.unchecked = {
            (str(c["setting"]), str(c["defense"]), float(c["beta"]))
            for c in raw.get("fails_without_attack", [])
        }
        self.cells: dict[tuple[str, str, str, float], tuple[float, float]] = {}
        for setting, rows in raw["settings"].items():
            for attack, values in rows.items():
                if len(values) != len(self.columns):
                    raise ValueError(f"{where}: references {setting}.{attack} has "
                                     f"{len(values)} values for {len(self.columns)} columns")
                for (defense, beta), text in zip(self.columns, values, strict=True):
                    key = (setting, attack, defense, beta)
                    self.cells[key] = parse_cell(text, f"{where}: {setting}.{attack}")

    @staticmethod
    def setting_of(scenario: Scenario) -> str:
        return f"{scenario.dataset.name}-{scenario.settings.split.name}"

    def lookup(self, scenario: Scenario) -> Reference | None:
        """The reference of ``scenario``'s cell, or ``None`` if the table has no such column."""
        setting, defense = self.setting_of(scenario), scenario.defense.label
        column = (defense, scenario.settings.beta)
        if column not in self.columns:
            return None
        attacked = [v for (s, _, d, b), v in self.cells.items() if (s, d, b) == (setting, *column)]
        if not attacked:
            return None
        best = max(mean for mean, _ in attacked)
        base = self.tolerance.get(scenario.dataset.name, self.tolerance["default"])
        if scenario.attack.name == "none":
            if (setting, *column) in self.unchecked:
                return None
            return Reference(None, None, base, best, source=self.source)
        cell = self.cells.get((setting, scenario.attack.name, *column))
        if cell is None:
            return None
        mean, std = cell
        bimodal = std > self.bimodal_std
        tolerance = base if std <= 2 else base + std
        return Reference(mean, std, tolerance, best, bimodal, self.source)

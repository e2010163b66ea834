"""A printed row of before / after / Δ that a case is checked against (seed 000 Table 1).

Values are accuracy points as printed (``mean`` or ``mean±std``).  A case's median Δ (after
minus before, in points) must lie within the row's Δ tolerance of its expected Δ, and where the
row checks it, its median accuracy before within the before tolerance.

**Errata.**  The expected Δ is the printed Δ, unless it disagrees with the row's own
``after - before`` by more than rounding (:data:`ROUNDING` points: two values rounded to 0.01,
each off by up to 0.005, and the printed Δ off by 0.005).  Such a row is an erratum of the
source: its expected Δ is ``after - before``, and the case's record and verdict say so.
The rows come from a protocol's reference table (the online track's
:class:`bench.online.paper_table.TriggerTable`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

VALUE = re.compile(r"^\s*([-+−]?\d+(?:\.\d+)?)\s*(?:±\s*(\d+(?:\.\d+)?))?\s*$")
ROUNDING = 0.015


@dataclass(frozen=True)
class Printed:
    """One printed value in points, with its std where the table gives one."""

    mean: float
    std: float | None = None

    def __str__(self) -> str:
        return f"{self.mean:+.2f}" + ("" if self.std is None else f"±{self.std:.2f}")


def parse_printed(text: Any, where: str) -> Printed:
    """``"80.84±1.08"``, ``"-4.68±0.78"`` or ``"82.99"`` as a :class:`Printed`."""
    match = VALUE.match(str(text))
    if not match:
        raise ValueError(f"{where}: expected 'mean' or 'mean±std', got {text!r}")
    std = match.group(2)
    return Printed(float(match.group(1).replace("−", "-")), None if std is None else float(std))


@dataclass(frozen=True)
class RowReference:
    """The printed row a case is checked against, and the tolerances of the check."""

    label: str
    before: Printed
    after: Printed
    delta: Printed
    delta_tolerance: float
    before_tolerance: float | None
    source: str = ""

    @property
    def own_delta(self) -> float:
        """``after - before`` of the printed row, in points."""
        return self.after.mean - self.before.mean

    @property
    def erratum(self) -> bool:
        """Whether the printed Δ disagrees with the row's own after − before."""
        return abs(self.delta.mean - self.own_delta) > ROUNDING

    @property
    def expected_delta(self) -> float:
        return round(self.own_delta, 2) if self.erratum else self.delta.mean

    @property
    def note(self) -> str:
        """The erratum flag as records and verdicts show it ('' for a consistent row)."""
        if not self.erratum:
            return ""
        return (f"ERRATUM in the source: printed Δ {self.delta.mean:+.2f} does not match its "
                f"own after − before {self.after.mean:.2f} − {self.before.mean:.2f} = "
                f"{self.own_delta:+.2f}; the expected Δ is taken from before/after")

    def describe(self) -> str:
        """``source, row: before .., after .., Δ ..`` plus the erratum flag."""
        text = (f"{self.source}, {self.label}: before {self.before.mean:.2f}"
                f"{'' if self.before.std is None else f'±{self.before.std:.2f}'}, after "
                f"{self.after.mean:.2f}{'' if self.after.std is None else f'±{self.after.std:.2f}'}"
                f", Δ {self.delta}")
        return f"{text}; {self.note}" if self.erratum else text

    def problems(self, median: Callable[[str], float | None]) -> list[str]:
        """Why the medians (``median(metric name)``: Δ in points, accuracies as fractions)
        leave this row; empty when they agree."""
        out = []
        delta = median("delta")
        if delta is None or abs(delta - self.expected_delta) > self.delta_tolerance + 1e-9:
            shown = "not measured" if delta is None else f"{delta:+.2f}"
            out.append(f"Δ {shown} points is not within {self.delta_tolerance:.2f} of the "
                       f"paper's {self.expected_delta:+.2f} ({self.describe()})")
        if self.before_tolerance is not None:
            before = median("accuracy_before")
            if before is None or abs(100 * before - self.before.mean) > self.before_tolerance:
                shown = "not measured" if before is None else f"{100 * before:.2f}%"
                out.append(f"accuracy before the trigger {shown} is not within "
                           f"{self.before_tolerance:g} points of the paper's "
                           f"{self.before.mean:.2f}% ({self.source}, {self.label})")
        return out

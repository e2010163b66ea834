"""The one case runner: seeds, shared runs, medians and verdicts for every front end.

pytest cases, ``byzbench run``, the orderings and the gate all run a :class:`~bench.grid.Case`
through :class:`CaseRunner`.  It simulates each (case, seed) once per process -- runs are
cached by configuration hash, split seed, training seed and device, never by label -- takes the
median of each metric over the seeds and judges it (:func:`verdict`): floor and ceiling on the
primary metric, bounds on other metrics, the published reference, and the timing bound.  Front
ends only show the verdict (pytest asserts it).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.grid import Case
from bench.printed_rows import RowReference
from bench.results import Reference as RecordReference
from bench.results import RunRecord
from bench.run import Progress, Seeds, run


@dataclass
class Verdict:
    """What a case measured over its seeds and what went wrong (``problems`` empty: passed)."""

    case: Case
    records: list[RunRecord]
    median: float
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def diverged(self) -> int:
        return sum(r.metrics.diverged for r in self.records)

    def summary(self) -> str:
        """One line: the measured value and why it passed or failed."""
        spec = self.case.protocol.primary()
        value = show(self.median, spec.unit)
        seeds = [r.seeds["train"] for r in self.records]
        head = f"{spec.name} {value} (median over seeds {seeds})"
        if self.problems:
            return f"{head}: FAILED: {'; '.join(self.problems)}"
        return f"{head}: ok" + (f" ({'; '.join(self.notes)})" if self.notes else "")


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if unit == "fraction" else f"{value:.4g} {unit}"


def median_metric(records: list[RunRecord], name: str) -> float | None:
    values = [r.metrics.value(name) for r in records]
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def verdict(case: Case, records: list[RunRecord]) -> Verdict:
    """Judge ``records`` (one per seed) against everything ``case`` expects."""
    protocol = case.protocol
    spec = protocol.primary()
    value = median_metric(records, spec.name)
    result = Verdict(case, records, float("nan") if value is None else value)
    if value is None:
        result.problems.append(f"no {spec.name} was measured")
        return result
    diverged = sum(r.metrics.diverged for r in records)
    cause = (f" ({diverged} of {len(records)} runs diverged: the model or the aggregate became "
             "non-finite)") if diverged else ""
    if value < case.floor:
        result.problems.append(f"median {spec.name} {show(value, spec.unit)} is below the floor "
                               f"{show(case.floor, spec.unit)}{cause}")
    if case.ceiling is not None:
        if value > case.ceiling:
            result.problems.append(
                f"median {spec.name} {show(value, spec.unit)} is above the ceiling "
                f"{show(case.ceiling, spec.unit)}: the attack no longer breaks this defense")
        else:
            result.notes.append(f"attack expected to break {case.scenario.defense.label}, "
                                f"ceiling {show(case.ceiling, spec.unit)}")
    for name, (low, high) in case.bounds.items():
        measured = median_metric(records, name)
        unit = protocol.metric(name).unit
        if measured is None or not low <= measured <= high:
            result.problems.append(f"median {name} {show(measured, unit)} is outside "
                                   f"[{show(low, unit)}, {show(high, unit)}]")
    if isinstance(case.reference, RowReference):
        result.problems.extend(case.reference.problems(lambda name: median_metric(records, name)))
        if case.reference.erratum:
            result.notes.append(case.reference.note)
    elif case.reference is not None:
        size = median_metric(records, "test_size")
        classes = _classes(case)
        problem = case.reference.verdict(value, classes) if classes else None
        if problem:
            result.problems.append(problem + (f" (test set of {size:.0f})" if size else ""))
    if case.measured_file is not None:
        if case.measured is None:
            result.problems.append(
                f"{case.id}: no committed reference in {case.measured_file} for this "
                "configuration; regenerate it with `byzbench report references`")
        else:
            problem = case.measured.problem(case, value, spec.unit)
            if problem:
                result.problems.append(problem)
    if case.max_cost_over_mean is not None:
        ratio = cost_over_mean(records)
        if ratio is not None and ratio > case.max_cost_over_mean:
            result.problems.append(
                f"one aggregation by {case.scenario.defense.label} cost {ratio:.0f}x the plain "
                f"mean on the same updates (measured in the same run), above the grid's "
                f"{case.max_cost_over_mean:g}x")
    return result


def cost_over_mean(records: list[RunRecord]) -> float | None:
    """Median over runs of the defense's aggregation time over the mean's on the same rows."""
    ratios = [r.timing.phases["aggregation"] / r.timing.phases["mean_aggregation"]
              for r in records if r.timing.phases.get("mean_aggregation")]
    return statistics.median(ratios) if ratios else None


def _classes(case: Case) -> int | None:
    from bench.fl.build import load_dataset

    try:
        return load_dataset(case.scenario.dataset).num_classes
    except Exception:  # noqa: BLE001  (a reference needs the class count; no data, no check)
        return None


def record_reference(case: Case) -> RecordReference | None:
    """The grid's expected value for the record, in the primary metric's unit: the committed
    measurement where the grid has one, else the paper's value."""
    if case.measured is not None:
        return RecordReference(value=case.measured.expected, tolerance=case.measured.tolerance,
                               source=f"measured over {case.measured.seeds} seeds "
                                      f"({Path(case.measured_file or '').name})")
    ref = case.reference
    if isinstance(ref, RowReference):  # Δ in points, with the printed row and any erratum
        return RecordReference(value=ref.expected_delta, tolerance=ref.delta_tolerance,
                               source=ref.describe())
    if ref is None or ref.mean is None:
        return None
    return RecordReference(value=ref.mean / 100, tolerance=ref.tolerance / 100,
                           source=ref.source or "grid reference")


class CaseRunner:
    """Runs cases for their seeds, sharing each simulation between every case, ordering and
    gate verdict of the process that asks for it."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._runs: dict[tuple[str, int, int, str], RunRecord] = {}

    def record(self, case: Case, seed: int,
               progress: Callable[[Progress], None] | None = None) -> RunRecord:
        """The record of ``case`` at training seed ``seed``, simulated on first request."""
        key = (case.scenario.config_hash(), case.split_seed, seed, self.device)
        if key not in self._runs:
            record = run(case.scenario, Seeds(case.split_seed, seed), self.device, case.tier,
                         progress)
            record.reference = record_reference(case)
            self._runs[key] = record
        return self._runs[key]

    def records(self, case: Case, seeds: list[int] | None = None,
                progress: Callable[[int, Progress], None] | None = None) -> list[RunRecord]:
        out = []
        for seed in seeds or list(case.seeds):
            report = (lambda p, s=seed: progress(s, p)) if progress else None
            out.append(self.record(case, seed, report))
        return out

    def evaluate(self, case: Case, seeds: list[int] | None = None,
                 progress: Callable[[int, Progress], None] | None = None) -> Verdict:
        """Run ``case`` for ``seeds`` (default: the grid's) and judge the result."""
        return verdict(case, self.records(case, seeds, progress))

    def median(self, case: Case, seeds: list[int] | None = None, metric: str | None = None
               ) -> float:
        """Median of ``metric`` (default: the primary) over the seeds' records."""
        name = metric or case.protocol.primary().name
        value = median_metric(self.records(case, seeds), name)
        if value is None:
            raise ValueError(f"{case.id}: no {name} measured")
        return value

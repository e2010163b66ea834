"""Regression gate against stored records: a case regresses when its median final accuracy
over its seeds falls more than ``max_drop`` percentage points below the baseline's median over
the same seeds (records matched by key: configuration hash plus seeds).  A test that attaches
records of several configurations is judged by its configuration with the largest drop."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.results import RunRecord, load_records

OK, REGRESSED, MISSING = "ok", "regressed", "missing"


def load_baseline(location: Path) -> dict[str, RunRecord]:
    """Records at ``location`` (file or folder) by key, the newest of repeats."""
    from bench.leaderboard.merge import newest_per_key

    records = load_records(Path(location))
    return {k: r for k, (r, _) in newest_per_key([(r, Path(location)) for r in records]).items()}


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing one case's records with the baseline (accuracies in %)."""

    status: str
    max_drop: float
    seeds: list[int]
    current: float | None = None
    baseline: float | None = None
    config_hash: str | None = None

    @property
    def drop(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.baseline - self.current

    @property
    def message(self) -> str:
        if self.status == MISSING:
            return "no baseline record for this configuration and seeds"
        return (
            f"configuration {self.config_hash}: "
            f"median final accuracy {self.current:.2f}% is {self.drop:.2f} points below the "
            f"baseline's {self.baseline:.2f}% over training seeds {self.seeds} "
            f"(allowed drop: {self.max_drop:g} points, --max-drop)"
        )

    def to_dict(self) -> dict:
        return asdict(self)


def compare(records: list[RunRecord], baseline: dict[str, RunRecord], max_drop: float) -> Verdict:
    """Judge ``records`` (one test's runs) against ``baseline`` (records by key)."""
    by_config: dict[str, list[tuple[RunRecord, RunRecord]]] = {}
    for record in records:
        if record.key in baseline:
            by_config.setdefault(record.config_hash, []).append((record, baseline[record.key]))
    if not by_config:
        return Verdict(MISSING, max_drop, sorted({r.seeds["train"] for r in records}))
    verdicts = []
    for config_hash, pairs in by_config.items():
        current = 100 * statistics.median((r.metrics.primary_value or 0.0) for r, _ in pairs)
        before = 100 * statistics.median((b.metrics.primary_value or 0.0) for _, b in pairs)
        status = REGRESSED if before - current > max_drop else OK
        seeds = sorted(r.seeds["train"] for r, _ in pairs)
        verdicts.append(Verdict(status, max_drop, seeds, current, before, config_hash))
    return max(verdicts, key=lambda v: v.drop)

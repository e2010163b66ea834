"""The leaderboard's content, computed from run records alone.

Each protocol declares its layout (:class:`bench.run.Grouping`): records are grouped by the
protocol, the tier and the protocol's group fields (FedSGD: dataset, split, model, n, f, beta;
the remaining settings such as epochs only show in the title when two groups would otherwise
look alike).  Inside a group, rows and columns come from the grouping (defenses x attacks for
the FL protocols); a cell summarizes the protocol's primary metric over the seeds that ran it,
in % for fractions:

* ``mean ± std`` (sample standard deviation, ``ddof = 1``; none for a single seed) and ``n``;
* ``drop``: the same row's baseline (no-attack) mean minus this cell's mean, in the cell's unit;
* a row's ``worst case`` is its worst cell mean (the baseline column included; the lowest when
  higher is better), and rows are ranked by it, best first; ties share a rank (1, 2, 2, 4).
  A row missing some of its group's columns is *incomplete*: it is ranked after every complete
  row and says how many cells it lacks, so a partial run never looks like a winner.

A protocol's ``Grouping.secondary`` metrics (FL: ``attack_success_rate``) get one more table
each per group (:attr:`Group.secondary`), built the same way from the records that carry a value
for that metric and ranked in its own direction (for the attack success rate, lower is better:
the lowest worst case first).  A secondary :class:`bench.run.Table` has its own rows and
columns (online: detectors x attacks for the AUROC).

A protocol with ``Grouping.metric_columns`` (online: before / after / Δ of seed 000 Table 1)
gets instead a main table of one row per row x column label with those metrics side by side,
each in its own unit (fractions in %), rows in label order and not ranked (``Group.ranked`` is
false: no worst case, drop or rank, and no pictures).  Display fields of the settings
(``Settings.derived``) may name rows, columns and groups; they place the fields they show.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from bench.results import RunRecord
from bench.run import Grouping, Protocol, protocol_of
from bench.scenario import Scenario

NO_ATTACK = "none"


@dataclass(frozen=True)
class Cell:
    """Final accuracies (%) of one defense against one attack, one per seed."""

    values: tuple[float, ...]
    curves: tuple[tuple[float, ...], ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def avg(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if self.n > 1 else None


@dataclass
class Row:
    """One row (a defense): its cells by column, its rank and how many columns it lacks."""

    defense: str
    cells: dict[str, Cell]
    rank: int = 0
    higher_is_better: bool = True
    baseline: str | None = NO_ATTACK
    missing: int = 0

    def _badness(self, attack: str) -> tuple[float, str]:
        avg = self.cells[attack].avg
        return (avg if self.higher_is_better else -avg, attack)

    @property
    def worst(self) -> float:
        return self.cells[self.worst_attack].avg

    @property
    def worst_attack(self) -> str:
        return min(self.cells, key=self._badness)

    @property
    def complete(self) -> bool:
        return self.missing == 0

    def drop(self, attack: str) -> float | None:
        """What this row lost against its baseline column (``None`` without that baseline);
        positive is worse in the primary metric's direction."""
        if self.baseline not in self.cells or attack not in self.cells:
            return None
        lost = self.cells[self.baseline].avg - self.cells[attack].avg
        return lost if self.higher_is_better else -lost


@dataclass
class Group:
    """One leaderboard table: rows ranked by worst case, attacks with ``none`` first."""

    fields: dict[str, object]
    settings: dict[str, object]
    rows: list[Row] = field(default_factory=list)
    title: str = ""
    metric: str = "final_accuracy"
    unit: str = "fraction"
    baseline: str | None = NO_ATTACK
    test_size: float | None = None
    higher_is_better: bool = True
    directed: bool = True                 # False: the metric has no better direction (a count)
    secondary: list[Group] = field(default_factory=list)
    row_header: str = "defense"
    column_header: str = "attack"         # what the columns are: "worst <this>" names the worst
    metric_columns: tuple[str, ...] = ()
    column_units: dict[str, str] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        """Whether rows are ranked by worst case (all but metric-column tables)."""
        return not self.metric_columns

    @property
    def attacks(self) -> list[str]:
        """The columns: attacks with the baseline first, or the metric columns in order."""
        if self.metric_columns:
            return list(self.metric_columns)
        names = {a for row in self.rows for a in row.cells}
        return sorted(names, key=lambda a: (a != self.baseline, a))

    def column_unit(self, column: str) -> str:
        """The unit a column shows: a metric column's own, else the table's."""
        unit = self.column_units.get(column, self.unit)
        return "%" if unit == "fraction" else unit

    def header(self, column: str) -> str:
        """A column's heading: the attack, or a metric column with its unit."""
        return f"{column} ({self.column_unit(column)})" if column in self.column_units else column

    @property
    def shown_unit(self) -> str:
        return "%" if self.unit == "fraction" else self.unit

    @property
    def missing(self) -> int:
        """Cells absent from the group's rows x columns (an interrupted or partial run)."""
        return sum(row.missing for row in self.rows)

    @property
    def labels(self) -> list[str]:
        """The group fields as the title shows them: ``digits``, ..., ``n=25``, ``beta=0.9``."""
        return [str(v) if isinstance(v, str) else f"{k}={v:g}" if isinstance(v, (int, float))
                else f"{k}={v}" for k, v in self.fields.items()]

    @property
    def slug(self) -> str:
        """File-name stem, e.g. ``digits-iid-mlp-n25-f5-b0.9-smoke`` (plus a digest of the
        settings when two groups differ only in them), safe for any file system."""
        text = "-".join(v.replace("=", "").replace("beta", "b") for v in self.labels)
        if self.title != " · ".join(self.labels):
            text += "-" + settings_digest(self.settings)
        return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def settings_digest(settings: dict[str, object]) -> str:
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:6]


def _labels(scenario: Scenario, names: tuple[str, ...]) -> str:
    """The row or column label of ``scenario``: its values of ``names`` joined by "/", a field
    that is unset (None) left out and a number shown as ``name=value`` (the poisoning track's
    ``epsilon=0.1`` and ``epsilon_over_tau=0.5`` columns would otherwise read alike)."""
    parts = []
    for name in names:
        value = scenario.value(name)
        if value is None:
            continue
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        parts.append(f"{name}={value:g}" if numeric else str(value))
    return "/".join(parts)


def _layouts(layout: Grouping) -> list[tuple[str | None, tuple[str, ...], tuple[str, ...]]]:
    """(metric or ``None`` for the primary, rows, columns) of every table of a group."""
    out: list[tuple[str | None, tuple[str, ...], tuple[str, ...]]] = [
        (None, layout.rows, layout.columns)]
    for extra in layout.secondary:
        out.append((extra, layout.rows, layout.columns) if isinstance(extra, str)
                   else (extra.metric, extra.rows, extra.columns))
    return out


def _describe(record: RunRecord) -> tuple[dict[str, object], dict[str, object]]:
    """The group fields a record shows and its settings that no table of its layout places
    (display fields place the stored fields they show)."""
    s = Scenario.from_dict(record.scenario)
    layout = protocol_of(s.protocol).grouping
    shown: dict[str, object] = {"protocol": s.protocol}
    shown.update({name: s.value(name) for name in layout.groups})
    shown["tier"] = record.tier
    named = set(layout.groups).union(*(set(r) | set(c) for _, r, c in _layouts(layout)))
    placed = named.union(*(s.settings.derived.get(name, ()) for name in named))
    settings = {k: v for k, v in record.scenario["settings"].items() if k not in placed}
    return shown, settings


def _scale(unit: str) -> float:
    return 100.0 if unit == "fraction" else 1.0


def _cells(records: list[RunRecord], rows: tuple[str, ...], columns: tuple[str, ...]
           ) -> dict[str, dict[str, list[RunRecord]]]:
    """``records`` by row label, then column label."""
    out: dict[str, dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        s = Scenario.from_dict(record.scenario)
        out[_labels(s, rows)][_labels(s, columns)].append(record)
    return out


def _rows(by_defense: dict[str, dict[str, list[RunRecord]]], metric: str, unit: str,
          higher: bool, baseline: str | None, primary: bool) -> list[Row]:
    """Ranked rows of one metric.  A primary value of ``None`` counts as 0; a secondary
    metric's cells keep only the runs that report it (rows and cells without any are left
    out)."""
    scale = _scale(unit)
    rows = []
    for defense, by_attack in by_defense.items():
        cells = {}
        for attack, runs in by_attack.items():
            kept = runs if primary else [r for r in runs
                                         if r.metrics.values.get(metric) is not None]
            if not kept:
                continue
            cells[attack] = Cell(
                tuple(scale * (r.metrics.values.get(metric) or 0.0) for r in kept),
                tuple(tuple(scale * a for a in (
                    next(iter(r.metrics.curves.values()), []) if primary
                    else r.metrics.curves.get(metric, []))) for r in kept),
            )
        if cells:
            rows.append(Row(defense, cells, higher_is_better=higher, baseline=baseline))
    columns = {a for row in rows for a in row.cells}
    for row in rows:
        row.missing = len(columns - set(row.cells))
    direction = -1.0 if higher else 1.0
    rows.sort(key=lambda r: (not r.complete, direction * r.worst, r.defense))
    for i, row in enumerate(rows):
        tied = (i > 0 and rows[i - 1].worst == row.worst
                and rows[i - 1].complete == row.complete)
        row.rank = rows[i - 1].rank if tied else i + 1
    return rows


def _metric_rows(by_row: dict[str, dict[str, list[RunRecord]]], protocol: Protocol
                 ) -> list[Row]:
    """One row per row x column label with the layout's ``metric_columns`` side by side (each
    over the runs that report it, in its own unit), in label order; ``rank`` is the position."""
    names = protocol.grouping.metric_columns
    rows = []
    for label in sorted(by_row):
        for column, runs in sorted(by_row[label].items()):
            cells = {}
            for name in names:
                kept = [r.metrics.values[name] for r in runs
                        if r.metrics.values.get(name) is not None]
                if kept:
                    scale = _scale(protocol.metric(name).unit)
                    cells[name] = Cell(tuple(scale * v for v in kept), tuple(() for _ in kept))
            if cells:
                rows.append(Row("/".join(p for p in (label, column) if p), cells, baseline=None,
                                missing=len(set(names) - set(cells))))
    for i, row in enumerate(rows):
        row.rank = i + 1
    return rows


def build_groups(records: list[RunRecord]) -> list[Group]:
    """Every group of ``records`` with its tables; groups in order of their titles."""
    members: dict[str, dict] = {}
    grouped: dict[str, list[RunRecord]] = defaultdict(list)
    for record in records:
        shown, settings = _describe(record)
        key = json.dumps([shown, settings], sort_keys=True, default=str)
        members.setdefault(key, {"fields": shown, "settings": settings, "record": record})
        grouped[key].append(record)

    groups = []
    for key, info in members.items():
        first: RunRecord = info["record"]
        protocol = protocol_of(first.protocol)
        layout = protocol.grouping
        test_size = first.metrics.values.get("test_size")
        tables = []
        for metric, rows_by, columns_by in _layouts(layout):
            cells = _cells(grouped[key], rows_by, columns_by)
            header, column_header = "/".join(rows_by), "/".join(columns_by)
            if metric is None and layout.metric_columns:
                rows = _metric_rows(cells, protocol)
                tables.append(Group(info["fields"], info["settings"], rows,
                                    metric=protocol.primary().name, unit="", baseline=None,
                                    test_size=test_size, row_header=header,
                                    metric_columns=layout.metric_columns,
                                    column_units={n: protocol.metric(n).unit
                                                  for n in layout.metric_columns}))
                continue
            name = metric or protocol.primary().name
            spec = protocol.metric(name)
            higher = spec.higher_is_better is not False
            baseline = layout.baseline if columns_by == layout.columns else None
            rows = _rows(cells, name, spec.unit, higher, baseline, primary=metric is None)
            if rows:  # the test-set size is the primary metric's (a trigger set differs)
                tables.append(Group(info["fields"], info["settings"], rows, metric=name,
                                    unit=spec.unit, baseline=baseline,
                                    test_size=None if tables else test_size,
                                    higher_is_better=higher, row_header=header,
                                    column_header=column_header,
                                    directed=spec.higher_is_better is not None))
        main, *extra = tables
        main.secondary = extra
        groups.append(main)
    _title(groups)
    return sorted(groups, key=lambda g: g.title)


def _title(groups: list[Group]) -> None:
    """Titles from the shown fields, plus the settings that differ where two titles clash."""
    by_title: dict[str, list[Group]] = defaultdict(list)
    for g in groups:
        by_title[" · ".join(g.labels)].append(g)
    for title, clash in by_title.items():
        differing = sorted(
            k for k in set().union(*(g.settings for g in clash))
            if len({json.dumps(g.settings.get(k), default=str) for g in clash}) > 1
        )
        for g in clash:
            extra = ", ".join(f"{k}={g.settings.get(k)}" for k in differing)
            g.title = f"{title} · {extra}" if extra else title
            for table in g.secondary:
                table.title = g.title


def fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def uniform_seed_count(group: Group) -> int | None:
    """The seed count shared by every cell of ``group`` (then stated once), else ``None``."""
    counts = {c.n for row in group.rows for c in row.cells.values()}
    return counts.pop() if len(counts) == 1 else None


@dataclass(frozen=True)
class CellText:
    """The parts of a cell as the wide tables show them."""

    value: str
    seeds: str
    drop: str


def cell_text(group: Group, row: Row, attack: str) -> CellText | None:
    cell = row.cells.get(attack)
    if cell is None:
        return None
    value = fmt(cell.avg) + (f" ± {fmt(cell.std)}" if cell.std is not None else "")
    seeds = "" if uniform_seed_count(group) is not None else f"n={cell.n}"
    drop = row.drop(attack)
    shown = "" if attack == group.baseline or drop is None else (
        f"↓{fmt(drop)}" if drop >= 0 else f"↑{fmt(-drop)}"
    )
    return CellText(value, seeds, shown)


def legend(group: Group) -> str:
    count = uniform_seed_count(group)
    seeds = f"over {count} seed{'s' if count != 1 else ''}" if count else "over n seeds"
    if not group.ranked:
        text = (f"{', '.join(group.header(c) for c in group.attacks)} side by side, mean "
                f"(± std) {seeds}, one row per {group.row_header}, in that order (not ranked).")
        if group.test_size:
            text += (f" Test set: {group.test_size:.0f} examples (one example is "
                     f"{100 / group.test_size:.2f} points).")
        return text
    direction = (("higher" if group.higher_is_better else "lower") + " is better"
                 if group.directed else "no better direction, ranked high to low")
    what = "Final test accuracy (%)" if group.metric == "final_accuracy" else (
        f"{group.metric} ({group.shown_unit}, {direction})")
    drops = "; ↓x: lost against the same row without attack" if group.baseline else ""
    text = (f"{what}, mean (± std) {seeds}{drops}. "
            "Rows ranked by worst case (the worst cell of the row).")
    if group.test_size:
        text += (f" Test set: {group.test_size:.0f} examples (one example is "
                 f"{100 / group.test_size:.2f} points).")
    if group.missing:
        incomplete = sum(not r.complete for r in group.rows)
        text += (f" INCOMPLETE: {group.missing} cell(s) missing in {incomplete} row(s); those "
                 "rows are ranked after the complete ones.")
    return text


def settings_line(group: Group) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(group.settings.items()))

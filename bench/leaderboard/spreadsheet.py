"""CSV leaderboard in long form: one line per (group, metric, row, column) cell with every number
(fractions in %, unrounded), for spreadsheets and plotting scripts.  The group's fields differ
by protocol, so they are one ``key=value; ...`` column."""

from __future__ import annotations

import csv
import io

from bench.leaderboard.table import Group

COLUMNS = ("group", "protocol", "tier", "fields", "metric", "unit", "rank", "complete",
           "defense", "attack", "seeds", "mean", "std", "min", "max", "drop", "worst_case",
           "worst_attack")


def leaderboard_csv(groups: list[Group]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for group in (t for g in groups for t in (g, *g.secondary)):
        fields = "; ".join(f"{k}={v}" for k, v in group.fields.items()
                           if k not in ("protocol", "tier"))
        for row in group.rows:
            for attack in group.attacks:
                cell = row.cells.get(attack)
                if cell is None:
                    continue
                drop = row.drop(attack)
                # a metric column is its own metric: no attack, rank or worst case
                metric, unit, column, ranked = (
                    (group.metric, group.shown_unit, attack, True) if group.ranked else
                    (attack, group.column_unit(attack), "", False))
                writer.writerow([
                    group.title, group.fields["protocol"], group.fields["tier"], fields,
                    metric, unit, row.rank if ranked else "", row.complete,
                    row.defense, column, cell.n, round(cell.avg, 4),
                    "" if cell.std is None else round(cell.std, 4),
                    round(min(cell.values), 4), round(max(cell.values), 4),
                    "" if drop is None else round(drop, 4),
                    round(row.worst, 4) if ranked else "", row.worst_attack if ranked else "",
                ])
    return buffer.getvalue()

"""The leaderboard as one self-contained web page: inline style, a ranked table per group and
its pictures embedded as base64 PNG data URIs (the page can be mailed or attached as is)."""

from __future__ import annotations

import base64
from html import escape

from bench.leaderboard.table import Group, cell_text, fmt, legend, settings_line

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 78em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
td.worst { font-weight: bold; } tr.top td.worst { color: #0a6b2a; }
small { color: #666; } small.drop { color: #a33; } small.gain { color: #2a7; }
figure { display: inline-block; margin: 0.5em; } figure img { max-width: 100%; }
.legend, .settings { color: #555; font-size: 0.9em; }
"""


def _cell(group: Group, row, attack: str) -> str:
    text = cell_text(group, row, attack)
    if text is None:
        return "<td>—</td>"
    parts = [escape(text.value)]
    if text.seeds:
        parts.append(f"<small>{escape(text.seeds)}</small>")
    if text.drop:
        kind = "drop" if text.drop.startswith("↓") else "gain"
        parts.append(f'<small class="{kind}">{escape(text.drop)}</small>')
    return "<td>" + " ".join(parts) + "</td>"


def metric_table(group: Group) -> str:
    """The ``<table>`` of a group's metric columns, rows in order."""
    attacks = group.attacks
    head = (f'<tr><th class="name">{escape(group.row_header)}</th>'
            + "".join(f"<th>{escape(group.header(a))}</th>" for a in attacks) + "</tr>")
    rows = [f'<tr><td class="name">{escape(row.defense)}</td>'
            + "".join(_cell(group, row, a) for a in attacks) + "</tr>" for row in group.rows]
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def ranked_table(group: Group) -> str:
    """The ``<table>`` of one group's ranked rows (or of its metric columns)."""
    if not group.ranked:
        return metric_table(group)
    attacks = group.attacks
    head = (f'<tr><th>rank</th><th class="name">{escape(group.row_header)}</th>'
            + "".join(f"<th>{escape(a)}</th>" for a in attacks)
            + '<th>worst case</th>'
            f'<th class="name">worst {escape(group.column_header)}</th></tr>')
    rows = []
    for row in group.rows:
        rows.append(
            f'<tr class="{"top" if row.rank == 1 else ""}"><td>{row.rank}</td>'
            f'<td class="name">{escape(row.defense)}</td>'
            + "".join(_cell(group, row, a) for a in attacks)
            + f'<td class="worst">{fmt(row.worst)}</td>'
            f'<td class="name">{escape(row.worst_attack)}</td></tr>'
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def group_section(group: Group, pictures: dict[str, bytes]) -> str:
    """A group's heading, settings, ranked table, one table per secondary metric, pictures."""
    secondary = "".join(
        f"<h3>{escape(table.metric)}</h3><p class=\"legend\">{escape(legend(table))}</p>"
        + ranked_table(table)
        for table in group.secondary
    )
    figures = "".join(
        f'<figure><img alt="{escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption><small>{escape(name)}</small>'
        "</figcaption></figure>"
        for name, png in pictures.items()
    )
    return (
        f'<section id="{escape(group.slug)}"><h2>{escape(group.title)}</h2>'
        f'<p class="settings">Settings: {escape(settings_line(group))}.</p>'
        f'<p class="legend">{escape(legend(group))}</p>'
        f"{ranked_table(group)}{secondary}<div>{figures}</div></section>"
    )


def web_page(groups: list[Group], pictures: dict[str, dict[str, bytes]], header: str) -> str:
    """``pictures`` maps a group's slug to ``{file name: PNG bytes}``."""
    toc = "".join(f'<li><a href="#{escape(g.slug)}">{escape(g.title)}</a></li>' for g in groups)
    body = "".join(group_section(g, pictures.get(g.slug, {})) for g in groups)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>byzbench leaderboard</title><style>{STYLE}</style></head><body>"
        f"<h1>byzbench leaderboard</h1><p>{escape(header)}</p><ul>{toc}</ul>{body}"
        "</body></html>\n"
    )

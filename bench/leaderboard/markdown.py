"""Markdown leaderboard: per group a heading, its settings, a ranked defense x attack table (and
one under its own sub-heading per secondary metric) and links to its pictures (relative to the
Markdown file)."""

from __future__ import annotations

from bench.leaderboard.table import Group, cell_text, fmt, legend, settings_line


def markdown_table(group: Group) -> str:
    """``| rank | defense | none | attack ... | worst case | worst attack |`` rows, best first
    (the last header names the columns: ``worst target/epsilon/epsilon_over_tau`` on the
    retrain tables);
    a table of metric columns: ``| row | metric ... |`` in row order."""
    attacks = group.attacks
    if not group.ranked:
        head = [group.row_header, *(group.header(a) for a in attacks)]
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(attacks)]
        for row in group.rows:
            texts = [cell_text(group, row, a) for a in attacks]
            cells = ["" if t is None else " ".join(p for p in (t.value, t.seeds and f"({t.seeds})")
                                                   if p) for t in texts]
            lines.append(f"| {row.defense} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    head = ["rank", group.row_header, *attacks, "worst case", f"worst {group.column_header}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|---|" + "---|" * (len(head) - 2)]
    for row in group.rows:
        worst = f"**{fmt(row.worst)}**" if row.rank == 1 else fmt(row.worst)
        cells = []
        for attack in attacks:
            text = cell_text(group, row, attack)
            parts = [] if text is None else [text.value, text.seeds and f"({text.seeds})",
                                             text.drop]
            cells.append(" ".join(p for p in parts if p))
        name = row.defense if row.complete else f"{row.defense} (incomplete: {row.missing} missing)"
        lines.append(
            f"| {row.rank} | {name} | " + " | ".join(cells)
            + f" | {worst} | {row.worst_attack} |"
        )
    return "\n".join(lines) + "\n"


def markdown_page(groups: list[Group], figures: dict[str, list[str]], header: str) -> str:
    """The whole leaderboard; ``figures`` maps a group's slug to its picture paths."""
    parts = [f"# byzbench leaderboard\n\n{header}\n"]
    for group in groups:
        parts.append(f"\n## {group.title}\n\nSettings: {settings_line(group)}.\n\n"
                     f"{legend(group)}\n\n{markdown_table(group)}")
        for table in group.secondary:
            parts.append(f"\n### {table.metric}\n\n{legend(table)}\n\n"
                         f"{markdown_table(table)}")
        for path in figures.get(group.slug, []):
            name = path.rsplit("/", 1)[-1].removeprefix(group.slug + "-").removesuffix(".png")
            parts.append(f"\n![{name}]({path})\n")
    return "".join(parts)

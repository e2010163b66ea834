"""LaTeX leaderboard: one booktabs ``table`` per group and secondary metric (needs
``\\usepackage{booktabs}``), the best worst case in bold and each cell's drop against no
attack in small type."""

from __future__ import annotations

from bench.leaderboard.table import CellText, Group, cell_text, fmt, legend

_SPECIAL = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
            "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "·": r"\textperiodcentered{}", "±": r"$\pm$",
            "↓": r"$\downarrow$", "↑": r"$\uparrow$", "−": "-"}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in text)


def _value(text: CellText) -> str:
    cell = "${}$".format(text.value.replace(" ± ", r" \pm "))
    return cell + (rf"$_{{{text.seeds}}}$" if text.seeds else "")


def _table(group: Group, columns: str, header: str, rows: list[str]) -> str:
    """A booktabs ``table`` with the group's caption around a header line and body rows."""
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{escape(group.title)}. {escape(legend(group))}}}",
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        header + r" \\",
        r"\midrule",
        *(row + r" \\" for row in rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def metric_table(group: Group) -> str:
    """A table of metric columns (no ranks, rows in order)."""
    attacks = group.attacks
    header = (escape(group.row_header) + " & "
              + " & ".join(escape(group.header(a)) for a in attacks))
    rows = []
    for row in group.rows:
        texts = [cell_text(group, row, a) for a in attacks]
        rows.append(escape(row.defense) + " & "
                    + " & ".join("--" if t is None else _value(t) for t in texts))
    return _table(group, "l" + "c" * len(attacks), header, rows)


def latex_table(group: Group) -> str:
    """The group's ranked table (or its metric table when it is not ranked)."""
    if not group.ranked:
        return metric_table(group)
    attacks = group.attacks
    worst_cases = [row.worst for row in group.rows]
    best = max(worst_cases) if group.higher_is_better else min(worst_cases)
    header = (f"Rank & {escape(group.row_header).capitalize()} & "
              + " & ".join(escape(a) for a in attacks)
              + f" & Worst case & Worst {escape(group.column_header)}")
    rows = []
    for row in group.rows:
        cells = []
        for attack in attacks:
            text = cell_text(group, row, attack)
            if text is None:
                cells.append("--")
                continue
            cell = _value(text)
            if text.drop:
                cell += rf" {{\scriptsize {escape(text.drop)}}}"
            cells.append(cell)
        worst = fmt(row.worst)
        worst = rf"\textbf{{{worst}}}" if row.worst == best else worst
        rows.append(f"{row.rank} & {escape(row.defense)} & " + " & ".join(cells)
                    + f" & {worst} & {escape(row.worst_attack)}")
    return _table(group, "rl" + "c" * len(attacks) + "rl", header, rows)


def latex_document(groups: list[Group], header: str) -> str:
    body = "\n".join(latex_table(t) for g in groups for t in (g, *g.secondary))
    return f"% byzbench leaderboard. {header}\n% Requires \\usepackage{{booktabs}}.\n\n{body}"

"""LaTeX leaderboard: one booktabs ``table`` per group and secondary metric (needs
``\\usepackage{booktabs}``), the best worst case in bold and each cell's drop against no
attack in small type."""

from __future__ import annotations

from bench.leaderboard.table import Group, cell_text, fmt, legend

_SPECIAL = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
            "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "·": r"\textperiodcentered{}", "±": r"$\pm$",
            "↓": r"$\downarrow$", "↑": r"$\uparrow$", "−": "-"}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in text)


def latex_table(group: Group) -> str:
    attacks = group.attacks
    worst_cases = [row.worst for row in group.rows]
    best = max(worst_cases) if group.higher_is_better else min(worst_cases)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        rf"\caption{{{escape(group.title)}. {escape(legend(group))}}}",
        r"\begin{tabular}{rl" + "c" * len(attacks) + "rl}",
        r"\toprule",
        "Rank & Defense & " + " & ".join(escape(a) for a in attacks)
        + r" & Worst case & Worst attack \\",
        r"\midrule",
    ]
    for row in group.rows:
        cells = []
        for attack in attacks:
            text = cell_text(group, row, attack)
            if text is None:
                cells.append("--")
                continue
            value = text.value.replace(" ± ", r" \pm ")
            cell = f"${value}$"
            if text.seeds:
                cell += rf"$_{{{text.seeds}}}$"
            if text.drop:
                cell += rf" {{\scriptsize {escape(text.drop)}}}"
            cells.append(cell)
        worst = fmt(row.worst)
        worst = rf"\textbf{{{worst}}}" if row.worst == best else worst
        lines.append(f"{row.rank} & {escape(row.defense)} & " + " & ".join(cells)
                     + rf" & {worst} & {escape(row.worst_attack)} \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def latex_document(groups: list[Group], header: str) -> str:
    body = "\n".join(latex_table(t) for g in groups for t in (g, *g.secondary))
    return f"% byzbench leaderboard. {header}\n% Requires \\usepackage{{booktabs}}.\n\n{body}"

"""Leaderboard pictures: a defense x attack heatmap per group and accuracy-over-epochs curves
per group and defense (one line per attack, mean over seeds with a ± std band).

Rendered with matplotlib's Agg canvas directly (no pyplot, so no global backend state) and
returned as PNG bytes; the caller writes them atomically.
"""

from __future__ import annotations

import io
import statistics
import textwrap

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bench.leaderboard.table import Group, fmt

DPI = 110


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def heatmap(group: Group) -> bytes:
    """The group's mean metric per row (ranked) and column (attacks, or the protocol's own
    column fields), every cell annotated ``mean ± std`` and each row's worst case outlined;
    the axes and colour bar are labelled from the group's row, column and metric names."""
    attacks = group.attacks
    defenses = [row.defense for row in group.rows]
    grid = [[row.cells[a].avg if a in row.cells else float("nan") for a in attacks]
            for row in group.rows]
    values = [v for line in grid for v in line if v == v]
    low, high = min(values), max(values)
    if high - low < 1.0:
        low, high = low - 0.5, high + 0.5

    figure = Figure(figsize=(1.5 + 1.25 * len(attacks), 1.4 + 0.62 * len(defenses)))
    ax = figure.add_subplot()
    image = ax.imshow(grid, cmap="RdYlGn", vmin=low, vmax=high, aspect="auto")
    ax.set_xticks(range(len(attacks)), labels=attacks, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(len(defenses)), labels=[f"{r.rank}. {r.defense}" for r in group.rows],
                  fontsize=10)
    ax.set_xlabel(group.column_header)
    ax.set_ylabel(f"{group.row_header} (rank by worst case)")
    for i, row in enumerate(group.rows):
        for j, attack in enumerate(attacks):
            cell = row.cells.get(attack)
            if cell is None:
                ax.text(j, i, "—", ha="center", va="center", color="0.4")
                continue
            level = (cell.avg - low) / (high - low)
            text = fmt(cell.avg) + ("" if cell.std is None else f"\n±{fmt(cell.std)}")
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="black" if 0.2 < level < 0.85 else "white",
                    fontweight="bold" if attack == row.worst_attack else "normal")
    for i, row in enumerate(group.rows):
        j = attacks.index(row.worst_attack)
        ax.add_patch(_outline(j, i))
    colorbar = figure.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    colorbar.set_label(f"{group.metric} ({group.shown_unit})")
    ax.set_title("\n".join(textwrap.wrap(group.title, 60)), fontsize=10)
    return _png(figure)


def _outline(x: int, y: int):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2)


def attack_styles(attacks: list[str]) -> dict[str, dict[str, object]]:
    """One distinct line style per attack: ten colours, then the same colours dotted or
    dash-dotted, so curves stay apart with twenty attacks; no attack is black and dashed."""
    palette = colormaps["tab10"].colors
    dashes = ["-", ":", "-.", (0, (5, 1))]
    others = [a for a in attacks if a != "none"]
    styles: dict[str, dict[str, object]] = {"none": {"color": "black", "linestyle": "--"}}
    for index, attack in enumerate(others):
        styles[attack] = {"color": palette[index % 10], "linestyle": dashes[(index // 10) % 4]}
    return styles


def curves(group: Group, defense: str) -> bytes:
    """Test accuracy after each epoch under every attack, for one defense of ``group``."""
    row = next(r for r in group.rows if r.defense == defense)
    figure = Figure(figsize=(6.4, 3.8))
    ax = figure.add_subplot()
    styles = attack_styles(group.attacks)
    for attack in group.attacks:
        cell = row.cells.get(attack)
        if cell is None:
            continue
        length = min(len(c) for c in cell.curves)
        epochs = list(range(1, length + 1))
        per_epoch = [[c[e] for c in cell.curves] for e in range(length)]
        avg = [statistics.fmean(v) for v in per_epoch]
        style = styles[attack]
        (line,) = ax.plot(epochs, avg, label=f"{attack} ({fmt(cell.avg)})", linewidth=1.8,
                          **style)
        if cell.n > 1:
            spread = [statistics.stdev(v) for v in per_epoch]
            ax.fill_between(epochs, [a - s for a, s in zip(avg, spread, strict=True)],
                            [a + s for a, s in zip(avg, spread, strict=True)], alpha=0.12,
                            color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(title="attack (final %)", fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1),
              frameon=False)
    ax.set_title("\n".join(textwrap.wrap(f"{defense} — {group.title}", 60)), fontsize=10)
    return _png(figure)

"""Leaderboard tables from synthetic records: cell statistics, worst case, loss against the
no-attack column, ranks, grouping, and the Markdown, CSV, LaTeX and web page renderings."""

from __future__ import annotations

import csv
import io
import math

import pytest

from bench.leaderboard import build
from bench.leaderboard.latex import latex_table
from bench.leaderboard.markdown import markdown_table
from bench.leaderboard.spreadsheet import leaderboard_csv
from bench.leaderboard.table import build_groups, legend
from bench.results import save_record


@pytest.fixture
def board(make_record) -> list:
    """rule_a: clean 90/92, atk_x 80/84, atk_y 70/72 -> worst 71 (atk_y), loss vs clean 20.
    rule_b: clean 88/88, atk_x 86/86, atk_y 85/87 -> worst 86 (atk_x and atk_y tie).
    rule_c: only atk_x 71/71 (no clean column) -> worst 71, ties with rule_a."""
    cells = {
        ("rule_a", "none"): (0.90, 0.92), ("rule_a", "atk_x"): (0.80, 0.84),
        ("rule_a", "atk_y"): (0.70, 0.72),
        ("rule_b", "none"): (0.88, 0.88), ("rule_b", "atk_x"): (0.86, 0.86),
        ("rule_b", "atk_y"): (0.85, 0.87),
        ("rule_c", "atk_x"): (0.71, 0.71),
    }
    return [make_record(d, a, v, seed) for (d, a), values in cells.items()
            for seed, v in enumerate(values)]


def test_cells_hold_average_spread_and_seed_count(board) -> None:
    (group,) = build_groups(board)
    row = {r.defense: r for r in group.rows}["rule_a"]
    cell = row.cells["atk_x"]
    assert cell.n == 2
    assert cell.avg == pytest.approx(82.0)
    assert cell.std == pytest.approx(math.sqrt(8.0))  # sample std of 80 and 84
    assert group.attacks == ["none", "atk_x", "atk_y"]


def test_worst_case_loss_and_ranks(board) -> None:
    (group,) = build_groups(board)
    rows = {r.defense: r for r in group.rows}
    assert [r.defense for r in group.rows] == ["rule_b", "rule_a", "rule_c"]
    # rule_c ties rule_a's 71 but ran 1 of 3 columns: incomplete rows rank after complete ones
    assert [r.rank for r in group.rows] == [1, 2, 3]
    assert [r.missing for r in group.rows] == [0, 0, 2] and group.missing == 2
    assert rows["rule_a"].worst == pytest.approx(71.0)
    assert rows["rule_a"].worst_attack == "atk_y"
    assert rows["rule_b"].worst == pytest.approx(86.0)
    assert rows["rule_a"].drop("atk_x") == pytest.approx(91.0 - 82.0)
    assert rows["rule_b"].drop("atk_y") == pytest.approx(2.0)
    assert rows["rule_c"].drop("atk_x") is None


def test_markdown_rows(board) -> None:
    (group,) = build_groups(board)
    lines = markdown_table(group).splitlines()
    assert lines[0] == "| rank | defense | none | atk_x | atk_y | worst case | worst attack |"
    assert lines[2] == ("| 1 | rule_b | 88.0 ± 0.0 | 86.0 ± 0.0 ↓2.0 | 86.0 ± 1.4 ↓2.0 "
                        "| **86.0** | atk_x |")
    assert lines[3] == ("| 2 | rule_a | 91.0 ± 1.4 | 82.0 ± 2.8 ↓9.0 | 71.0 ± 1.4 ↓20.0 "
                        "| 71.0 | atk_y |")
    assert lines[4] == ("| 3 | rule_c (incomplete: 2 missing) |  | 71.0 ± 0.0 |  | 71.0 "
                        "| atk_x |")
    assert "INCOMPLETE: 2 cell(s) missing in 1 row(s)" in legend(group)


def test_seed_count_shown_per_cell_when_counts_differ(board, make_record) -> None:
    (group,) = build_groups([*board, make_record("rule_c", "atk_x", 0.71, 2)])
    table = markdown_table(group)
    assert "71.0 ± 0.0 (n=3)" in table
    assert "82.0 ± 2.8 (n=2) ↓9.0" in table


def test_groups_split_by_setting_and_tier(make_record) -> None:
    records = [make_record(), make_record(n=20), make_record(tier="standard"),
               make_record(epochs=5)]
    titles = [g.title for g in build_groups(records)]
    assert len(titles) == 4
    assert "fedsgd · toyset · even · toynet · n=10 · f=2 · beta=0.9 · smoke · epochs=3" in titles
    assert "fedsgd · toyset · even · toynet · n=10 · f=2 · beta=0.9 · smoke · epochs=5" in titles
    assert "fedsgd · toyset · even · toynet · n=20 · f=2 · beta=0.9 · smoke" in titles
    assert "fedsgd · toyset · even · toynet · n=10 · f=2 · beta=0.9 · standard" in titles
    assert len({g.slug for g in build_groups(records)}) == 4


def test_csv_has_one_line_per_cell_with_numbers(board) -> None:
    rows = list(csv.DictReader(io.StringIO(leaderboard_csv(build_groups(board)))))
    assert len(rows) == 7
    line = next(r for r in rows if r["defense"] == "rule_a" and r["attack"] == "atk_y")
    assert float(line["mean"]) == pytest.approx(71.0)
    assert float(line["drop"]) == pytest.approx(20.0)
    assert (line["seeds"], line["rank"], line["worst_attack"]) == ("2", "2", "atk_y")
    assert (line["min"], line["max"]) == ("70.0", "72.0")


def test_latex_table(board) -> None:
    (group,) = build_groups(board)
    tex = latex_table(group)
    assert r"\begin{tabular}{rlccc rl}".replace(" ", "") in tex
    assert r"1 & rule\_b & $88.0 \pm 0.0$ & " in tex
    assert r"$82.0 \pm 2.8$ {\scriptsize $\downarrow$9.0}" in tex
    assert r"\textbf{86.0}" in tex and r"\textbf{71.0}" not in tex
    assert tex.count(r"\\") == 4  # header and three rows


def test_folder_build_writes_every_format_and_embeds_pictures(board, tmp_path) -> None:
    for record in board:
        save_record(record, tmp_path)
    written = build(tmp_path)
    pictures = sorted(p for p in written if p.suffix == ".png")
    kinds = sorted(p.name.rsplit("-", 1)[-1] for p in pictures)
    assert kinds == ["curves.png"] * 3 + ["heatmap.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard.html"):
        assert (tmp_path / name).stat().st_size > 0
    page = (tmp_path / "leaderboard.html").read_text()
    assert page.count("data:image/png;base64,") == len(pictures)
    assert page.count("<table>") == 1 and "rule_b" in page
    markdown = (tmp_path / "leaderboard.md").read_text()
    for picture in pictures:
        assert f"](figures/{picture.name})" in markdown


def test_rebuild_removes_pictures_of_vanished_groups(board, make_record, tmp_path) -> None:
    for record in board:
        save_record(record, tmp_path)
    extra = save_record(make_record(n=20), tmp_path)
    build(tmp_path)
    assert len(list((tmp_path / "figures").glob("*n20*"))) == 2
    extra.unlink()
    build(tmp_path)
    assert list((tmp_path / "figures").glob("*n20*")) == []


class _Values:
    def __init__(self, **values: object) -> None:
        self.values = values

    def value(self, name: str) -> object:
        return self.values[name]


def test_labels_leave_out_unset_fields_and_name_numbers() -> None:
    from bench.leaderboard.table import _labels

    budget = _Values(epsilon=3.0, epsilon_over_tau=None, attack="gc", defense="none")
    assert _labels(budget, ("epsilon", "epsilon_over_tau")) == "epsilon=3"
    assert _labels(_Values(epsilon=None, epsilon_over_tau=0.5),
                   ("epsilon", "epsilon_over_tau")) == "epsilon_over_tau=0.5"
    assert _labels(budget, ("attack", "defense")) == "gc/none"


def test_legend_of_an_undirected_count_claims_no_better_direction() -> None:
    from bench.leaderboard.table import Group, legend

    counted = Group({}, {}, metric="poisons", unit="count", baseline=None, directed=False)
    assert "no better direction" in legend(counted) and "is better" not in legend(counted)
    scored = Group({}, {}, metric="drop", unit="points", baseline=None)
    assert "higher is better" in legend(scored)

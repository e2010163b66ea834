"""Secondary-metric tables (FL's attack success rate): built from the records that carry the
metric, ranked in its own direction (lower is better), rendered after the primary table."""

from __future__ import annotations

import csv
import io

import pytest

from bench.leaderboard import build
from bench.leaderboard.latex import latex_document
from bench.leaderboard.markdown import markdown_page
from bench.leaderboard.spreadsheet import leaderboard_csv
from bench.leaderboard.table import build_groups, legend
from bench.leaderboard.webpage import web_page
from bench.results import save_record

ASR = "attack_success_rate"


@pytest.fixture
def board(make_record) -> list:
    """(defense, attack): (final accuracy, ASR or None) for seeds 0 and 1.
    rule_a: ASR bd_p 10/20, bd_q 90/80 -> worst 85 (bd_q).
    rule_b: ASR bd_p 40/40, bd_q 30/50 -> worst 40 (both tie; bd_p first by name).
    rule_c: only bd_p, ASR 5/5 -> incomplete, ranked last despite the lowest ASR."""
    cells = {
        ("rule_a", "none"): ((0.90, None), (0.92, None)),
        ("rule_a", "bd_p"): ((0.80, 0.10), (0.84, 0.20)),
        ("rule_a", "bd_q"): ((0.70, 0.90), (0.72, 0.80)),
        ("rule_b", "none"): ((0.88, None), (0.88, None)),
        ("rule_b", "bd_p"): ((0.86, 0.40), (0.86, 0.40)),
        ("rule_b", "bd_q"): ((0.85, 0.30), (0.87, 0.50)),
        ("rule_c", "bd_p"): ((0.71, 0.05), (0.71, 0.05)),
    }
    records = []
    for (defense, attack), runs in cells.items():
        for seed, (final, asr) in enumerate(runs):
            record = make_record(defense, attack, final, seed)
            record.metrics.values[ASR] = asr
            record.metrics.units[ASR] = "fraction"
            if asr is not None:
                record.metrics.curves[ASR] = [asr / 2, asr]
            records.append(record)
    return records


def test_secondary_table_keeps_only_runs_with_the_metric_and_ranks_lowest_first(board) -> None:
    (group,) = build_groups(board)
    assert group.metric == "final_accuracy" and group.attacks == ["none", "bd_p", "bd_q"]
    (table,) = group.secondary
    assert (table.metric, table.higher_is_better, table.title) == (ASR, False, group.title)
    assert table.attacks == ["bd_p", "bd_q"]
    rows = {r.defense: r for r in table.rows}
    assert [r.defense for r in table.rows] == ["rule_b", "rule_a", "rule_c"]
    assert [r.rank for r in table.rows] == [1, 2, 3]
    assert rows["rule_a"].worst == pytest.approx(85.0)
    assert rows["rule_a"].worst_attack == "bd_q"
    assert rows["rule_b"].worst == pytest.approx(40.0)
    assert rows["rule_c"].missing == 1 and rows["rule_c"].worst == pytest.approx(5.0)
    assert rows["rule_a"].drop("bd_p") is None  # no ASR without attack: no drop column
    assert rows["rule_a"].cells["bd_p"].curves == ((5.0, 10.0), (10.0, 20.0))
    assert "lower is better" in legend(table) and "Test set" not in legend(table)


def test_no_secondary_table_without_the_metric(make_record) -> None:
    (group,) = build_groups([make_record("rule_a", "none"), make_record("rule_a", "atk_x")])
    assert group.secondary == []


def test_every_format_renders_the_secondary_table(board, tmp_path) -> None:
    groups = build_groups(board)
    markdown = markdown_page(groups, {}, "header")
    assert f"\n### {ASR}\n" in markdown
    assert "| 1 | rule_b | 40.0 ± 0.0 | 40.0 ± 14.1 | **40.0** | bd_p |" in markdown
    lines = list(csv.DictReader(io.StringIO(leaderboard_csv(groups))))
    asr_lines = [r for r in lines if r["metric"] == ASR]
    assert len(asr_lines) == 5 and len(lines) == 7 + 5
    line = next(r for r in asr_lines if (r["defense"], r["attack"]) == ("rule_a", "bd_q"))
    assert (float(line["mean"]), line["rank"], line["drop"]) == (85.0, "2", "")
    tex = latex_document(groups, "header")
    assert tex.count(r"\begin{table}") == 2
    # best worst case of the ASR table is the lowest among complete and incomplete rows
    assert r"\textbf{5.0}" in tex and r"\textbf{85.0}" not in tex
    page = web_page(groups, {}, "header")
    assert page.count("<table>") == 2 and f"<h3>{ASR}</h3>" in page
    for record in board:
        save_record(record, tmp_path)
    build(tmp_path)
    assert f"### {ASR}" in (tmp_path / "leaderboard.md").read_text()

"""The online track's leaderboard from synthetic records: seed 000 Table 1's before / after / Δ
side by side per detector x attack x tricks row, one group per trigger and ε (the clean trigger
apart from ε = 0.1), and the detectors x attacks AUROC table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bench.leaderboard import build
from bench.leaderboard.latex import latex_document
from bench.leaderboard.markdown import markdown_table
from bench.leaderboard.spreadsheet import leaderboard_csv
from bench.leaderboard.table import Group, build_groups, legend
from bench.leaderboard.webpage import web_page
from bench.online.settings import OnlineSettings
from bench.results import Metrics, RunRecord, Timing, save_record
from bench.scenario import Component, Defense, Scenario

pytestmark = pytest.mark.uses("online")

ENVIRONMENT = {"python": "3.11", "torch": "2.x", "device": "cpu", "device_name": "cpu",
               "git_revision": "abc1234"}
UNITS = {"delta": "points", "accuracy_before": "fraction", "accuracy_after": "fraction",
         "auroc": "fraction"}


def stream_record(detector: str, attack: str, seed: int, before: float, delta: float,
                  auroc: float | None, **settings) -> RunRecord:
    """A made-up run (component names are placeholders: the tables read labels only)."""
    scenario = Scenario("online", Component("toyset"), Component("toynet"),
                        Defense(Component(detector)), Component(attack),
                        OnlineSettings(**settings))
    values = {"delta": delta, "accuracy_before": before, "accuracy_after": before + delta / 100,
              "auroc": auroc, "test_size": 1000.0}
    return RunRecord(scenario=scenario.to_dict(), seeds={"split": 0, "train": seed},
                     metrics=Metrics("delta", values, UNITS), timing=Timing(wall_s=1.0),
                     environment=dict(ENVIRONMENT), config_hash=scenario.config_hash(),
                     tier="smoke")


@pytest.fixture
def records() -> list[RunRecord]:
    """Two seeds per cell.  Clean trigger (its phase at ε 0.1): plain Δ +0.5, phased with
    momentum -7.0.  Poisoned ε 0.1: plain -5.0, phased -8.0, phased with momentum and P -11.0.
    Poisoned ε 8/255: plain -3.5.  AUROC on the ε 0.1 cells: det_a 0.60/0.62 plain, 0.50/0.54
    phased, 0.52 with momentum and P (worst 52); det_b 0.70, 0.80, 0.75 (worst 70)."""
    out = []
    for seed, jitter in enumerate((0.0, 0.02)):
        clean = {"trigger": "clean", "eps": 0.1}
        tenth = {"trigger": "poisoned", "eps": 0.1}
        out += [
            stream_record("det_a", "plain", seed, 0.83 + jitter, 0.5, None, **clean),
            stream_record("det_a", "phased", seed, 0.80 + jitter, -7.0, 0.55,
                          weight_momentum=0.9, **clean),
            stream_record("det_a", "plain", seed, 0.83 + jitter, -5.0, 0.60 + jitter, **tenth),
            stream_record("det_a", "phased", seed, 0.81 + jitter, -8.0, 0.50 + 2 * jitter,
                          **tenth),
            stream_record("det_a", "phased", seed, 0.80 + jitter, -11.0, 0.52,
                          weight_momentum=0.9, optimize_trigger=True, **tenth),
            stream_record("det_b", "plain", seed, 0.83 + jitter, -5.0, 0.70, **tenth),
            stream_record("det_b", "phased", seed, 0.81 + jitter, -8.0, 0.80, **tenth),
            stream_record("det_b", "phased", seed, 0.80 + jitter, -11.0, 0.75,
                          weight_momentum=0.9, optimize_trigger=True, **tenth),
            stream_record("det_a", "plain", seed, 0.83 + jitter, -3.5, 0.58, trigger="poisoned",
                          eps=8 / 255),
        ]
    return out


def by_budget(groups: list[Group]) -> dict[str, Group]:
    return {str(g.fields["budget"]): g for g in groups}


def test_groups_part_the_clean_trigger_from_the_tenth_budget(records) -> None:
    groups = by_budget(build_groups(records))
    assert set(groups) == {"clean trigger (accumulative eps 0.1)", "poisoned trigger, eps 0.1",
                           "poisoned trigger, eps 8/255"}
    clean = groups["clean trigger (accumulative eps 0.1)"]
    tenth = groups["poisoned trigger, eps 0.1"]
    assert [r.defense for r in clean.rows] == ["det_a/phased/wm0.9", "det_a/plain/wm0.0"]
    assert [r.defense for r in tenth.rows] == ["det_a/phased/wm0.0", "det_a/phased/wm0.9-optp",
                                               "det_a/plain/wm0.0", "det_b/phased/wm0.0",
                                               "det_b/phased/wm0.9-optp", "det_b/plain/wm0.0"]
    assert "clean trigger" in clean.title and "clean" not in tenth.title
    # the trigger, ε and tricks are placed, so they do not split groups or fill the settings
    assert not {"trigger", "eps", "weight_momentum", "optimize_trigger"} & set(tenth.settings)


def test_rows_show_before_after_and_delta_side_by_side(records) -> None:
    tenth = by_budget(build_groups(records))["poisoned trigger, eps 0.1"]
    assert not tenth.ranked and tenth.attacks == ["accuracy_before", "accuracy_after", "delta"]
    row = {r.defense: r for r in tenth.rows}["det_a/phased/wm0.9-optp"]
    assert row.cells["accuracy_before"].avg == pytest.approx(81.0)  # 80 and 82 %
    assert row.cells["accuracy_after"].avg == pytest.approx(70.0)
    assert row.cells["delta"].avg == pytest.approx(-11.0) and row.cells["delta"].n == 2
    lines = markdown_table(tenth).splitlines()
    assert lines[0] == ("| defense/attack/tricks | accuracy_before (%) | accuracy_after (%) "
                        "| delta (points) |")
    assert lines[3] == "| det_a/phased/wm0.9-optp | 81.0 ± 1.4 | 70.0 ± 1.4 | -11.0 ± 0.0 |"
    assert "not ranked" in legend(tenth) and "worst case" not in markdown_table(tenth)
    lines = list(csv.DictReader(io.StringIO(leaderboard_csv([tenth]))))
    line = next(r for r in lines
                if (r["defense"], r["metric"]) == ("det_a/phased/wm0.9-optp", "delta"))
    assert (line["unit"], line["attack"], line["rank"], float(line["mean"])) == (
        "points", "", "", -11.0)
    before = next(r for r in lines if (r["defense"], r["metric"]) == ("det_a/plain/wm0.0",
                                                                       "accuracy_before"))
    assert (before["unit"], float(before["mean"])) == ("%", 84.0)


def test_detectors_by_attacks_auroc_ranked_highest_first(records) -> None:
    tenth = by_budget(build_groups(records))["poisoned trigger, eps 0.1"]
    (table,) = tenth.secondary
    assert (table.metric, table.row_header, table.higher_is_better) == ("auroc", "defense", True)
    assert table.attacks == ["phased/wm0.0", "phased/wm0.9-optp", "plain/wm0.0"]
    assert [(r.defense, r.rank) for r in table.rows] == [("det_b", 1), ("det_a", 2)]
    det_a, det_b = table.rows[1], table.rows[0]
    assert det_a.cells["phased/wm0.0"].avg == pytest.approx(52.0)
    assert (det_a.worst, det_b.worst) == (pytest.approx(52.0), pytest.approx(70.0))
    assert det_b.worst_attack == "plain/wm0.0"
    # its columns are attack x tricks: the worst-cell column is named after them
    assert markdown_table(table).splitlines()[0].endswith("| worst case | worst attack/tricks |")
    assert det_a.drop("plain/wm0.0") is None and "↓x" not in legend(table)
    # the clean trigger crafts nothing alone: its AUROC table has only the phased column
    clean = by_budget(build_groups(records))["clean trigger (accumulative eps 0.1)"]
    assert [t.attacks for t in clean.secondary] == [["phased/wm0.9"]]


def test_every_format_renders_the_metric_columns(records, tmp_path: Path) -> None:
    groups = build_groups(records)
    tex = latex_document(groups, "header")
    assert r"defense/attack/tricks & accuracy\_before (\%) & accuracy\_after (\%) & delta " \
           r"(points) \\" in tex
    assert r"det\_a/phased/wm0.9-optp & $81.0 \pm 1.4$ & $70.0 \pm 1.4$ & $-11.0 \pm 0.0$" in tex
    page = web_page(groups, {}, "header")
    assert "<th>delta (points)</th>" in page and "<h3>auroc</h3>" in page
    for record in records:
        save_record(record, tmp_path)
    build(tmp_path)
    assert "| det_a/plain/wm0.0 | 84.0 ± 1.4 | 84.5 ± 1.4 | 0.5 ± 0.0 |" in (
        tmp_path / "leaderboard.md").read_text()
    assert not list((tmp_path / "figures").glob("*.png"))  # no heatmap of mixed units

"""Regression tests of issue 10's numbered defects that no other test covered (each failed on
b37213d).  Covered elsewhere: bad grid values and budgets (tests/test_grid.py, and the bad-input
suite here), incomplete rows (tests/reports/test_tables.py), config_hash on load
(tests/reports/test_record_schema.py), records saved as tests finish and --skip-bad (the
fault-injection suite here)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input_counts import GRID_CASES, ROOT, TINY_GRID

import bench.schedule
from bench.cases import verdict
from bench.fl.build import load_dataset
from bench.grid import load_grid
from bench.registry import aggregators
from bench.results import load_records
from bench.scenario import Component


def test_folder_options_work_from_elsewhere_once_the_folders_exist(tmp_path, tiny_board) -> None:
    """Defect 1: an existing folder after --leaderboard/--baseline/--data-root was taken for a
    test path (rc 4, 'unrecognized arguments')."""
    for folder in ("lb", "data"):
        (tmp_path / folder).mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(GRID_CASES), "-q", "-p", "no:xdist", "-p",
         "no:cacheprovider", "-k", "mean and none", "--leaderboard", "lb", "--baseline",
         str(tiny_board), "--data-root", "data"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
    assert len(load_records(tmp_path / "lb")) == 2


def test_missing_dataset_under_the_command_is_one_line(tmp_path, byzbench, monkeypatch) -> None:
    """Defect 6: a 40-line traceback, the useful line last."""
    monkeypatch.setenv("BYZBENCH_DATA", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    refused = byzbench("run", "standard-mnist", "--leaderboard", str(tmp_path / "out"))
    assert refused.code == 2
    (line,) = refused.text.strip().splitlines()
    assert str(tmp_path / "empty") in line and "train-images-idx3-ubyte" in line
    assert not (tmp_path / "out").exists()


def tiny_case_and_records(board: Path, defense: str, attack: str):
    case = next(c for c in load_grid(TINY_GRID)
                if (c.scenario.defense.label, c.scenario.attack.label) == (defense, attack))
    records = [r for r in load_records(board) if r.config_hash == case.scenario.config_hash()]
    assert len(records) == 2
    return case, records


def test_non_finite_runs_are_named_in_the_verdict(tiny_board) -> None:
    """Defect 7: a rule whose output became NaN failed only as 'below the floor'."""
    case, records = tiny_case_and_records(tiny_board, "tm", "alie")
    for record in records:
        record.metrics.diverged = True
        record.metrics.values["final_accuracy"] = 0.2
    result = verdict(case, records)
    assert not result.passed
    assert "2 of 2 runs diverged" in result.summary()


def test_expected_break_is_explained(tiny_board) -> None:
    """Defect 8: '8.1% ok' for a cell expected to break, without saying why it is ok."""
    case, records = tiny_case_and_records(tiny_board, "tm", "alie")
    result = verdict(dataclasses.replace(case, floor=0.0, ceiling=0.99), records)
    assert result.passed
    assert result.summary().endswith("ok (attack expected to break tm, ceiling 99.0%)")


def test_failed_runs_are_counted_and_the_rest_still_build(tmp_path, byzbench,
                                                          monkeypatch) -> None:
    """Defects 3 and 8: a run failing mid-grid stopped the grid; the final line did not count
    failures."""
    real_run = bench.schedule.run

    def fail_one_attack(scenario, *args, **kwargs):
        if scenario.attack.name == "alie":
            raise RuntimeError("simulated failure inside a run")
        return real_run(scenario, *args, **kwargs)

    monkeypatch.setattr(bench.schedule, "run", fail_one_attack)
    board = tmp_path / "board"
    done = byzbench("run", str(TINY_GRID), "--leaderboard", str(board), "-j", "1")
    assert done.code == 1
    assert "2 of 2 cases passed, 0 failed, 4 runs raised an error" in done.text
    assert done.text.count("RuntimeError: simulated failure inside a run") == 4
    assert len(load_records(board)) == 4 and (board / "leaderboard.md").is_file()


RULE = '''
class Krum:
    """A third-party rule that happens to share a registered rule's class name."""

    def __init__(self, f=0):
        self.f = f

    def __call__(self, updates):
        return updates.mean(0)
'''


@pytest.fixture
def restored_registry():
    saved = dict(aggregators._entries)
    yield
    aggregators._entries.clear()
    aggregators._entries.update(saved)


def test_gate_takes_a_registered_name(cases_here, restored_registry) -> None:
    """Defect 7: '--aggregator cc' was refused though the README says cc passes."""
    from bad_input_counts import inner_pytest

    collected = inner_pytest(str(ROOT / "cases" / "test_gate.py"), "--co", "-m", "gate",
                             "--aggregator", "cc", "--aggregator-param", "tau=1.0")
    assert collected.code == 0, collected.text[-2000:]
    assert re.search(r"test_gate_cost\[cc_tau1-n\d+-d\d+\]", collected.text)


def test_external_rule_named_like_a_registered_one_can_be_renamed(
        tmp_path, monkeypatch, restored_registry) -> None:
    """Defect 7: an external class named Krum collided ('already registered'), no way out."""
    from bad_input_counts import inner_pytest

    (tmp_path / "thirdparty_krum.py").write_text(RULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    gate = [str(ROOT / "cases" / "test_gate.py"), "--co", "-m", "gate", "--aggregator",
            "thirdparty_krum:Krum"]
    refused = inner_pytest(*gate)
    assert refused.code == 4 and "choose another with --aggregator-name NAME" in refused.text
    renamed = inner_pytest(*gate, "--aggregator-name", "theirkrum")
    assert renamed.code == 0, renamed.text[-2000:]
    assert "test_gate_cost[theirkrum-" in renamed.text


def test_published_reference_states_the_split_the_code_makes() -> None:
    """Defect 10: the README said 1,437 / 360; the code gives 1,438 / 359."""
    data = load_dataset(Component("digits"))
    train, test = data.y_train.shape[0], data.y_test.shape[0]
    readme = (ROOT / "reports" / "published" / "standard" / "README.md").read_text()
    assert f"digits (scikit-learn, {train:,} train / {test:,} test" in readme
    assert f"one test image is {100 / test:.2f} points" in readme


def test_help_and_listing_are_plain_whole_sentences(byzbench) -> None:
    """Defect 10: raw reST in help, listing summaries cut mid-sentence, no defaults shown."""
    top = byzbench("--help")
    assert top.code == 0 and "``" not in top.text
    listing = byzbench("list")
    summaries = [line for line in listing.text.splitlines() if line.startswith("  ")]
    assert len(summaries) > 40
    cut = [line for line in summaries if not re.search(r"\.( \[[^]]*\])?$", line)]
    assert cut == [] and "``" not in listing.text
    run_help = byzbench("run", "--help").text
    options = re.findall(r"^  (--?[\w-]+)", run_help, flags=re.M)
    described = " ".join(run_help.split())
    assert {"--leaderboard", "-j", "--device", "--seeds", "--threads", "--select"} <= set(options)
    assert described.count("(default:") == 7  # GRID and the six options that take a value
    assert "(default: None)" not in described


def test_leaderboard_states_the_test_set_size(tiny_board) -> None:
    """Defect 10: a reader could not judge a one-point difference.  Blobs: 3,000 samples, a
    quarter held out, so 750 test examples and 100/750 = 0.13 points each."""
    legend = (tiny_board / "leaderboard.md").read_text()
    assert "Test set: 750 examples (one example is 0.13 points)." in legend

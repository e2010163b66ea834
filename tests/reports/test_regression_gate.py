"""The baseline gate: a case fails when its median accuracy falls more than --max-drop points
below the baseline of the same configuration and seeds (also on xdist workers); cases without
baseline pass and are listed in the terminal summary."""

from __future__ import annotations

import re

import pytest

from bench.leaderboard.baseline import MISSING, OK, REGRESSED, compare


def summary_section(output: str) -> str:
    """The plugin's terminal section (``==== byzbench ====``), up to pytest's own summary;
    on CI pytest prints failure messages untruncated, so a plain split on the word would
    land in the short test summary instead."""
    section = re.split(r"^=+ byzbench =+$", output, flags=re.MULTILINE)[-1]
    return re.split(r"^=+ short test summary", section, flags=re.MULTILINE)[0]


MEAN_ALIE = "fedsgd-blobs-linear-iid-mean-alie-n5f1-b0.9"
TM_ALIE = "fedsgd-blobs-linear-iid-tm-alie-n5f1-b0.9"


def test_case_below_baseline_fails_under_workers(parallel_run) -> None:
    proc, _ = parallel_run
    output = proc.stdout
    assert proc.returncode == 1, output[-3000:] + proc.stderr[-2000:]
    assert re.search(r"\b1 failed, 3 passed\b", output), output[-2000:]
    assert f"FAILED tests/reports/grid_cases.py::test_grid_case[{MEAN_ALIE}]" in output
    assert re.search(r"byzbench baseline gate: configuration \w+: median final accuracy "
                     r"[\d.]+% is 5\.00 points below the baseline's [\d.]+% over training "
                     r"seeds \[0, 1\]", output)
    summary = summary_section(output)
    assert re.search(rf"{MEAN_ALIE}\s+[\d.]+\s+2\s+-5\.0\s+[\d.]+\s+failed", summary), summary
    assert re.search(rf"{TM_ALIE}\s+[\d.]+\s+2\s+missing\s+[\d.]+\s+passed", summary), summary
    assert f"for 1 case(s) (passed ungated):\n  {TM_ALIE}" in summary


def test_allowed_loss_passes_and_identical_runs_show_no_change(raised_baseline,
                                                              grid_pytest) -> None:
    proc = grid_pytest("-p", "no:xdist", "--baseline", str(raised_baseline), "--max-drop", "6")
    output = proc.stdout
    assert proc.returncode == 0, output[-3000:] + proc.stderr[-2000:]
    assert "4 passed" in output
    summary = summary_section(output)
    assert re.search(rf"{MEAN_ALIE}\s+[\d.]+\s+2\s+-5\.0\s", summary), summary
    assert len(re.findall(r"\s\+0\.0\s", summary)) == 2, summary  # both no-attack cases
    assert "no baseline in" in summary and TM_ALIE in summary


def _by_key(records) -> dict:
    return {r.key: r for r in records}


def test_verdict_compares_medians_over_shared_seeds(make_record) -> None:
    base = _by_key([make_record(final=v, seed=s) for s, v in enumerate([0.80, 0.90, 0.70])])
    now = [make_record(final=v, seed=s) for s, v in enumerate([0.79, 0.86, 0.50])]
    verdict = compare(now, base, max_drop=2.0)
    # medians: baseline 80 (of 80, 90, 70), current 79 (of 79, 86, 50)
    assert (verdict.status, verdict.seeds) == (OK, [0, 1, 2])
    assert verdict.drop == pytest.approx(1.0)
    assert compare(now, base, max_drop=0.5).status == REGRESSED
    only_two = compare(now + [make_record(final=0.1, seed=9)], base, 2.0)
    assert only_two.seeds == [0, 1, 2]  # seed 9 has no baseline and is left out


def test_loss_equal_to_the_allowance_passes(make_record) -> None:
    base = _by_key([make_record(final=0.75)])
    assert compare([make_record(final=0.5)], base, max_drop=25.0).status == OK
    assert compare([make_record(final=0.5)], base, max_drop=24.9).status == REGRESSED


def test_multiple_configurations_judged_by_the_largest_loss(make_record) -> None:
    base = _by_key([make_record("rule_a", final=0.8), make_record("rule_b", final=0.8)])
    now = [make_record("rule_a", final=0.79), make_record("rule_b", final=0.70)]
    verdict = compare(now, base, max_drop=2.0)
    assert verdict.status == REGRESSED
    assert verdict.config_hash == now[1].config_hash
    assert verdict.drop == pytest.approx(10.0)


def test_no_shared_record_gives_missing(make_record) -> None:
    base = _by_key([make_record(seed=1)])
    verdict = compare([make_record(seed=0)], base, max_drop=2.0)
    assert (verdict.status, verdict.drop) == (MISSING, None)

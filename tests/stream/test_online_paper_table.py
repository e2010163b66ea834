"""The paper tier's Table 1 grid (bench/grids/online-paper.yaml) without training: every printed
row is a case with the paper's values, the erratum row is flagged and checked against its own
before/after, verdicts on made-up medians, and the skip without a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases import record_reference, verdict
from bench.grid import Case, GridError, load_grid
from bench.grids import grid_path
from bench.results import Metrics, RunRecord, Timing
from pytest_byzbench.cases import skip_unless_runnable

pytestmark = pytest.mark.uses("online")

EIGHT, SIXTEEN, TENTH = round(8 / 255, 12), round(16 / 255, 12), 0.1  # as keys compare
# Seed 000 Table 1 as the notes copy it (§II.6): (trigger, eps, accumulative phase, weight
# momentum, optimizing P) -> (before, after, printed Δ); the clean trigger's phase runs at 0.1.
TABLE1 = {
    ("clean", TENTH, False, 0.0, False): (82.99, 83.58, 0.59),
    ("clean", TENTH, True, 0.0, False): (80.84, 76.16, -4.68),
    ("clean", TENTH, True, 0.9, False): (80.70, 73.35, -7.36),
    ("poisoned", EIGHT, False, 0.0, False): (82.99, 79.33, -3.66),
    ("poisoned", EIGHT, True, 0.0, False): (81.82, 77.04, -4.78),
    ("poisoned", EIGHT, True, 0.9, False): (81.35, 75.40, -5.95),
    ("poisoned", EIGHT, True, 0.0, True): (80.00, 75.26, -5.74),
    ("poisoned", EIGHT, True, 0.9, True): (80.51, 73.50, -7.02),
    ("poisoned", SIXTEEN, False, 0.0, False): (82.99, 78.46, -4.53),
    ("poisoned", SIXTEEN, True, 0.0, False): (81.49, 76.19, -5.30),
    ("poisoned", SIXTEEN, True, 0.9, False): (81.05, 73.44, -7.60),
    ("poisoned", SIXTEEN, True, 0.0, True): (80.75, 72.75, -8.00),
    ("poisoned", SIXTEEN, True, 0.9, True): (80.62, 71.52, -9.10),
    ("poisoned", TENTH, False, 0.0, False): (82.99, 77.61, -5.38),
    ("poisoned", TENTH, True, 0.0, False): (80.76, 72.57, -8.20),
    ("poisoned", TENTH, True, 0.9, False): (80.40, 70.64, -9.76),
    ("poisoned", TENTH, True, 0.0, True): (80.05, 70.49, -9.56),
    ("poisoned", TENTH, True, 0.9, True): (80.05, 68.88, -11.17),
}
ERRATUM_ROW = ("poisoned", EIGHT, True, 0.0, True)


@pytest.fixture(scope="module")
def cases() -> dict[tuple, Case]:
    out = {}
    for case in load_grid(grid_path("online-paper")):
        s = case.scenario.settings
        key = (s.trigger, round(s.eps, 12), case.scenario.attack.name == "phase",
               s.weight_momentum, s.optimize_trigger)
        assert key not in out, f"two cases for one row: {case.id}"
        out[key] = case
    return out


def measured(case: Case, delta: float, before: float) -> list[RunRecord]:
    """Three made-up runs of ``case`` whose median Δ is ``delta`` points and median accuracy
    before the trigger ``before`` (a fraction)."""
    records = []
    for seed, shift in enumerate((-0.2, 0.0, 0.3)):
        values = {"delta": delta + shift, "accuracy_before": before,
                  "accuracy_after": before + (delta + shift) / 100, "test_size": 9900.0}
        records.append(RunRecord(
            scenario=case.scenario.to_dict(), seeds={"split": 0, "train": seed},
            metrics=Metrics("delta", values, {k: "points" for k in values}),
            timing=Timing(wall_s=1.0), environment={}, config_hash=case.scenario.config_hash(),
            tier="paper"))
    return records


def test_every_printed_row_is_one_case_with_the_paper_values(cases) -> None:
    assert set(cases) == set(TABLE1)
    for row, (before, after, delta) in TABLE1.items():
        case = cases[row]
        ref = case.reference
        assert case.tier == "paper" and case.seeds == (0, 1, 2)
        assert case.scenario.dataset.name == "rawcifar10"
        assert case.scenario.model.name == "resnet18"
        assert case.scenario.settings.batch_size == 100
        assert (ref.before.mean, ref.after.mean, ref.delta.mean) == (before, after, delta)
        # max(2 std, 1.5): -7.36±1.70 -> 3.40; -4.78±0.34 -> 1.5; rows without a std -> 1.5
        assert ref.delta_tolerance == pytest.approx(max(2 * (ref.delta.std or 0.0), 1.5))
        # accuracy before the trigger is checked (82.99 ± 1.5) where no phase ran
        assert (ref.before_tolerance == 1.5) is (not row[2])
    assert cases[("clean", TENTH, True, 0.9, False)].reference.delta_tolerance == \
        pytest.approx(3.4)


def test_only_the_mismatched_row_is_flagged_and_checked_on_its_own_before_after(cases) -> None:
    flagged = [row for row in TABLE1 if cases[row].reference.erratum]
    assert flagged == [ERRATUM_ROW]
    case = cases[ERRATUM_ROW]
    ref = case.reference
    assert ref.expected_delta == pytest.approx(75.26 - 80.00)  # -4.74, printed -5.74
    for row, (_, _, delta) in TABLE1.items():
        if row != ERRATUM_ROW:
            assert cases[row].reference.expected_delta == delta
    stored = record_reference(case)
    assert stored.value == pytest.approx(-4.74) and stored.tolerance == pytest.approx(1.5)
    assert "ERRATUM" in stored.source and "-5.74" in stored.source and "-4.74" in stored.source
    assert "ERRATUM" not in record_reference(cases[("clean", TENTH, True, 0.0,
                                                              False)]).source
    agreed = verdict(case, measured(case, -4.9, 0.80))
    assert agreed.passed and any("ERRATUM" in note for note in agreed.notes)
    # -6.4 is within 1.5 of the printed -5.74 but not of -4.74: the erratum decides
    missed = verdict(case, measured(case, -6.4, 0.80))
    assert not missed.passed and "ERRATUM" in missed.summary()


def test_verdicts_check_the_delta_and_the_clean_model_before_the_trigger(cases) -> None:
    alone = cases[("poisoned", EIGHT, False, 0.0, False)]  # -3.66, before 82.99
    assert verdict(alone, measured(alone, -3.0, 0.8350)).passed
    far = verdict(alone, measured(alone, -1.9, 0.8350))
    assert not far.passed and "not within 1.50 of the paper's -3.66" in far.summary()
    low = verdict(alone, measured(alone, -3.66, 0.8120))
    assert not low.passed and "accuracy before the trigger 81.20%" in low.summary()
    phased = cases[("poisoned", EIGHT, True, 0.0, False)]  # before not checked
    assert verdict(phased, measured(phased, -4.78, 0.70)).passed


def test_without_a_gpu_the_cases_skip_with_the_reason(cases) -> None:
    with pytest.raises(pytest.skip.Exception, match="paper tier needs a CUDA device"):
        skip_unless_runnable(next(iter(cases.values())), "cpu")


@pytest.mark.parametrize("edit, message", [
    (("  - {attack: none, optimize_trigger: true}\n", "  - {attack: none, eps: 0.5}\n"),
     "exclude rule .* matches no cell"),
    (('delta: "-3.66"}', 'delta: "-3.66"}\n    - {trigger: clean, attack: none, '
      'weight_momentum: 0.5, before: "1", after: "2", delta: "1"}'),
     "references row\\(s\\) matching no case: trigger=clean, attack=none, weight_momentum=0.5"),
    (('delta: "+0.59"', 'delta: "+0.59 points"'), r"rows\[0\]\.delta: expected 'mean'"),
], ids=["exclude-unmatched", "row-unmatched", "printed-value"])
def test_grid_typos_fail_at_load(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    text = grid_path("online-paper").read_text()
    assert edit[0] in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(GridError, match=message):
        load_grid(path)

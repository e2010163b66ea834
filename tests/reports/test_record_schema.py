"""The run record's JSON schema: round trips, numbers stored as numbers, and validation errors
that name the offending field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.results import SCHEMA_VERSION, RecordError, RunRecord, load_records, save_record

V2_RECORD = Path(__file__).resolve().parent / "data" / "v2_record.json"  # a published v2 run


def test_round_trip_keeps_every_field(make_record) -> None:
    record = make_record(final=0.75, seed=3)
    again = RunRecord.from_dict(json.loads(record.to_json()))
    assert again == record
    assert again.key == f"{record.config_hash}-s0-t3"


def test_numbers_are_stored_as_numbers(make_record) -> None:
    data = json.loads(make_record(final=0.75).to_json())
    assert data["metrics"]["values"]["final_accuracy"] == 0.75
    assert data["metrics"]["units"]["final_accuracy"] == "fraction"
    assert all(isinstance(v, float) for v in data["metrics"]["curves"]["test_accuracy"])
    assert isinstance(data["timing"]["counters"]["rounds"], int)
    assert data["timing"]["phases"] == {"clients": 1.0, "attack": 0.5, "aggregation": 0.5}
    assert data["schema_version"] == SCHEMA_VERSION


def test_record_carries_every_scenario_field(make_record) -> None:
    data = json.loads(make_record().to_json())
    assert set(data["scenario"]) == {"protocol", "dataset", "model", "defense", "attack",
                                     "settings"}
    for name in ("split", "n", "f", "beta", "batch_size", "epochs", "lr", "lr_milestones",
                 "lr_gamma", "engine", "max_train"):
        assert name in data["scenario"]["settings"]


def test_non_finite_diagnostics_stored_as_null(make_record) -> None:
    record = make_record()
    record.metrics.diagnostics["score"] = float("inf")
    data = json.loads(record.to_json())
    assert data["metrics"]["diagnostics"]["score"] is None
    assert RunRecord.from_dict(data).metrics.diagnostics["score"] is None


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            data = data[p]
        data[last] = value

    return change


def _remove(path: str) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            data = data[p]
        del data[last]

    return change


BAD = [
    pytest.param(_set("metrics.values.final_accuracy", "abc"),
                 "record metrics.values.final_accuracy: expected a number, got 'abc'",
                 id="text_score"),
    pytest.param(_set("metrics.values.final_accuracy", 1.5),
                 "record metrics.values.final_accuracy: expected a fraction in [0, 1], got 1.5",
                 id="score_above_one"),
    pytest.param(_remove("metrics.values.final_accuracy"),
                 "record metrics.values: has no value for the primary metric", id="no_primary"),
    pytest.param(_set("metrics.curves.test_accuracy", [0.1, True]),
                 "record metrics.curves.test_accuracy[1]: expected a number, got True",
                 id="flag_in_curve"),
    pytest.param(_set("metrics.diverged", "no"),
                 "record metrics.diverged: expected true or false, got 'no'", id="text_flag"),
    pytest.param(_set("timing.counters.rounds", 2.5),
                 "record timing.counters.rounds: expected an integer, got 2.5",
                 id="fractional_rounds"),
    pytest.param(_set("timing.extra", 1), "record timing: unknown field(s) ['extra']",
                 id="unknown_field"),
    pytest.param(_remove("created"), "record created: missing", id="no_timestamp"),
    pytest.param(_set("created", "yesterday"),
                 "record created: expected an ISO 8601 time, got 'yesterday'", id="bad_timestamp"),
    pytest.param(_set("seeds.train", "1"), "record seeds.train: expected an integer, got '1'",
                 id="text_seed"),
    pytest.param(_remove("environment.git_revision"), "record environment.git_revision: missing",
                 id="no_revision"),
    pytest.param(_set("scenario.settings.f", 10), "record scenario: scenario.settings: "
                 "f must be < n", id="too_many_byzantine"),
    pytest.param(_set("scenario.settings.lr", 0.2), "record config_hash: ",
                 id="edited_configuration"),
    pytest.param(_set("schema_version", 1),
                 "record schema_version: this byzbench reads versions 2, 3, got 1",
                 id="old_version"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_validation_names_the_bad_field(make_record, change, message: str) -> None:
    data = json.loads(make_record().to_json())
    change(data)
    with pytest.raises(RecordError) as err:
        RunRecord.from_dict(data)
    assert str(err.value).startswith(message)


def test_loading_names_the_bad_file(make_record, tmp_path) -> None:
    path = save_record(make_record(), tmp_path)
    data = json.loads(path.read_text())
    data["metrics"]["values"]["best_accuracy"] = "high"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError,
                       match=rf"^{path}: record metrics.values.best_accuracy: expected"):
        load_records(tmp_path)


def test_a_bad_file_can_be_skipped_with_a_warning_naming_it(make_record, tmp_path) -> None:
    good = save_record(make_record(seed=0), tmp_path)
    bad = save_record(make_record(seed=1), tmp_path)
    bad.write_text(bad.read_text()[:40])  # truncated
    with pytest.warns(UserWarning, match=str(bad)):
        records = load_records(tmp_path, skip_bad=True)
    assert [r.key for r in records] == [good.stem]


def test_version_2_records_migrate_with_their_hash_checked(tmp_path) -> None:
    from bench.results import migrate_v2

    old = json.loads(V2_RECORD.read_text())
    record = RunRecord.from_dict(old)
    assert record.schema_version == SCHEMA_VERSION
    assert record.metrics.values["final_accuracy"] == old["metrics"]["final_accuracy"]
    assert record.metrics.curves["test_accuracy"] == old["metrics"]["curve"]
    assert record.scenario["settings"]["beta"] == old["scenario"]["beta"]
    assert "clients_with_attack" in record.timing.phases
    old["scenario"]["lr"] = 9.0
    with pytest.raises(RecordError, match="config_hash"):
        migrate_v2(old)


def test_loading_reads_folders_single_files_and_lists(make_record, tmp_path) -> None:
    first, second = make_record(seed=0), make_record(seed=1)
    save_record(first, tmp_path / "board")
    save_record(second, tmp_path / "board")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps([first.to_dict(), second.to_dict()]))
    assert {r.key for r in load_records(tmp_path / "board")} == {first.key, second.key}
    assert {r.key for r in load_records(tmp_path / "board" / "records")} == {first.key, second.key}
    assert [r.key for r in load_records(bundle)] == [first.key, second.key]

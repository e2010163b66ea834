"""Merging record folders: union of runs, the newest of repeated runs, and refusals (mixed
schema versions, different configurations under one key) that write nothing."""

from __future__ import annotations

import json

import pytest

from bench.leaderboard.cli import main
from bench.leaderboard.merge import MergeError, merge
from bench.results import RecordError, load_records, save_record

OLD, NEW = "2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"


def test_union_of_folders(make_record, tmp_path) -> None:
    save_record(make_record("rule_a", seed=0), tmp_path / "one")
    save_record(make_record("rule_b", seed=0), tmp_path / "two")
    summary = merge([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert (summary.files, summary.records, summary.kept) == (2, 2, 2)
    assert len(load_records(tmp_path / "out")) == 2
    assert (tmp_path / "out" / "leaderboard.html").exists()


@pytest.mark.parametrize("newest_first", [False, True], ids=["older_first", "newer_first"])
def test_newest_repeat_wins(make_record, tmp_path, newest_first: bool) -> None:
    save_record(make_record(final=0.5, created=OLD), tmp_path / "old")
    save_record(make_record(final=0.8, created=NEW), tmp_path / "new")
    order = ["new", "old"] if newest_first else ["old", "new"]
    summary = merge([tmp_path / d for d in order], tmp_path / "out")
    (kept,) = load_records(tmp_path / "out")
    assert (kept.metrics.values["final_accuracy"], kept.created) == (0.8, NEW)
    assert summary.replaced == 1


def test_output_folder_records_take_part(make_record, tmp_path) -> None:
    save_record(make_record(final=0.8, created=NEW), tmp_path / "out")
    save_record(make_record(final=0.5, created=OLD), tmp_path / "late")
    merge([tmp_path / "late"], tmp_path / "out")
    (kept,) = load_records(tmp_path / "out")
    assert kept.metrics.values["final_accuracy"] == 0.8


def test_refuses_different_configurations_under_one_key(make_record, tmp_path) -> None:
    first = make_record(epochs=3)
    second = make_record(epochs=5)
    second.config_hash = first.config_hash  # e.g. a hand-edited or mis-hashed record
    a = save_record(first, tmp_path / "a")
    b = save_record(second, tmp_path / "b")
    assert a != b
    # a record whose hash does not match its configuration is refused when read, so two
    # configurations can never meet under one key
    with pytest.raises(RecordError, match=rf"^{b}: record config_hash: .* does not match"):
        merge([tmp_path / "a", tmp_path / "b"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_mixed_schema_versions(make_record, tmp_path) -> None:
    save_record(make_record("rule_a"), tmp_path / "a")
    old = save_record(make_record("rule_b"), tmp_path / "b")
    data = json.loads(old.read_text())
    data["schema_version"] = 1
    old.write_text(json.dumps(data))
    with pytest.raises(MergeError, match=r"different schema versions: version 1 in 1 file\(s\), "
                                         rf"e\.g\. {old}; version 3 in 1 file"):
        merge([tmp_path / "a", tmp_path / "b"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_command_line(make_record, tmp_path, capsys) -> None:
    save_record(make_record("rule_a"), tmp_path / "a")
    save_record(make_record("rule_b"), tmp_path / "b")
    out = str(tmp_path / "out")
    assert main(["report", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", out]) == 0
    assert "merged 2 records from 2 files into 2 runs" in capsys.readouterr().out
    (tmp_path / "out" / "leaderboard.md").unlink()
    assert main(["report", "build", out]) == 0
    assert (tmp_path / "out" / "leaderboard.md").exists()

    clash = make_record("rule_a", epochs=7)
    clash.config_hash = make_record("rule_a").config_hash
    save_record(clash, tmp_path / "c")
    assert main(["report", "merge", str(tmp_path / "c"), "--out", out]) == 1
    assert "does not match its scenario" in capsys.readouterr().err

"""Interrupted writes never leave half a file, and a rerun of the same run replaces its record."""

from __future__ import annotations

import os

import pytest

from bench.results import load_records, save_record, write_atomic


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_interrupted_write_keeps_old_file_and_no_partial(tmp_path, monkeypatch, step) -> None:
    target = tmp_path / "table.md"
    target.write_text("old table\n")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, step, interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new table " * 1000)
    monkeypatch.undo()
    assert target.read_text() == "old table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch) -> None:
    def interrupt(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "records" / "run.json", b"{}")
    monkeypatch.undo()
    assert list((tmp_path / "records").iterdir()) == []


def test_rerun_replaces_its_record(make_record, tmp_path) -> None:
    first = save_record(make_record(final=0.5), tmp_path)
    second = save_record(make_record(final=0.6), tmp_path)
    assert first == second
    (kept,) = load_records(tmp_path)
    assert kept.metrics.values["final_accuracy"] == 0.6
    assert sorted(p.name for p in (tmp_path / "records").iterdir()) == [first.name]


def test_written_files_follow_the_umask(tmp_path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "table.csv", "a,b\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "table.csv").stat().st_mode & 0o777 == 0o640

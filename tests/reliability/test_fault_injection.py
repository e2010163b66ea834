"""Faults during a run: a killed process, damaged records, an output folder that cannot be
written, a full disk.  Every record on disk stays readable, no run that was reported finished
is lost, no half-written file is left, and the leaderboard rebuilds."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_input_counts import GRID_CASES, ROOT, TINY_GRID, TINY_RUNS

import bench.results
from bench.results import load_records
from bench.schedule import existing_keys

KILL_DEADLINE_S = 90


def records_in(board: Path) -> list[Path]:
    return sorted((board / "records").glob("*.json")) if (board / "records").is_dir() else []


def leftovers(board: Path) -> list[str]:
    """Temporary files of interrupted writes (``.<name>.<random>.part``)."""
    return sorted(p.name for p in board.rglob("*.part"))


def kill_after(command: list[str], board: Path, records: int, jitter_s: float,
               sig: signal.Signals) -> str:
    """Start ``command``, wait until ``board`` holds ``records`` records, wait ``jitter_s``
    more, then send ``sig`` to its whole process group; returns what it printed."""
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + KILL_DEADLINE_S
    try:
        while (len(records_in(board)) < records and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.02)
        time.sleep(jitter_s)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return output


def check_board(board: Path, byzbench, at_least: int) -> None:
    """Every record parses, none is missing, and the tables build.  A process killed inside a
    write leaves that write's temporary file (a hidden ``.part``, never read as a record): at
    most one, as only one process writes records."""
    assert len(leftovers(board)) <= 1
    records = load_records(board)  # raises on any unreadable record
    assert len(records) >= at_least
    built = byzbench("report", "build", str(board))
    assert built.code == 0, built.text
    assert f"{len(records)} run" in (board / "leaderboard.md").read_text()


@pytest.mark.parametrize(("sig", "seed"), [(signal.SIGKILL, 1), (signal.SIGTERM, 2)],
                         ids=["kill", "term"])
def test_killed_pytest_run_keeps_every_finished_record(tmp_path, byzbench, sig, seed) -> None:
    rng = random.Random(seed)
    board = tmp_path / "board"
    command = [sys.executable, "-m", "pytest", str(GRID_CASES), "-v", "-p", "no:xdist",
               "-p", "no:cacheprovider", "--leaderboard", str(board)]
    output = kill_after(command, board, 2 * rng.randint(1, 3), rng.uniform(0, 0.3), sig)
    finished = output.count(" PASSED")
    assert finished < 4, "the run ended before the kill: nothing was tested\n" + output
    check_board(board, byzbench, at_least=2 * finished)


@pytest.mark.parametrize(("sig", "workers", "seed"), [(signal.SIGKILL, 1, 3),
                                                      (signal.SIGTERM, 1, 4)],
                         ids=["kill", "term"])  # -j 2 passes too, but its spawned workers
# each import torch: 25 s measured on the shared 2-core machine, over this suite's budget
def test_killed_command_resumes_without_rerunning(tmp_path, byzbench, sig, workers,
                                                  seed) -> None:
    rng = random.Random(seed)
    board = tmp_path / "board"
    command = [sys.executable, "-m", "bench.cli", "run", str(TINY_GRID), "--leaderboard",
               str(board), "-j", str(workers)]
    output = kill_after(command, board, rng.randint(1, 5), rng.uniform(0, 0.3), sig)
    finished = sum(": final_accuracy " in line for line in output.splitlines())
    assert finished < TINY_RUNS, "the run ended before the kill\n" + output
    check_board(board, byzbench, at_least=finished)
    kept = len(records_in(board))
    resumed = byzbench("run", str(TINY_GRID), "--leaderboard", str(board), "-j", "1",
                       "--resume")
    assert resumed.code == 0, resumed.text
    assert f"{kept} runs skipped as already recorded" in resumed.text
    assert len(load_records(board)) == TINY_RUNS


def truncate(at: float):
    return lambda text: text[:int(len(text) * at)]


CORRUPTIONS = {
    "truncated-early": truncate(0.1),
    "truncated-midway": truncate(0.5),
    "truncated-late": truncate(0.97),
    "empty": lambda text: "",
    "not-text": lambda text: b"\xff\xfe\x00garbage",
    "null": lambda text: "null",
    "edited-scenario": lambda text: text.replace('"lr": 0.05', '"lr": 0.5'),
    "value-above-one": lambda text: _edit(text, "final_accuracy", 1.5),
    "unknown-field": lambda text: text.replace("{", '{"surprise": 1, ', 1),
}


def _edit(text: str, metric: str, value: float) -> str:
    data = json.loads(text)
    data["metrics"]["values"][metric] = value
    return json.dumps(data)


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_damaged_record_is_named_and_can_be_skipped(board_copy, byzbench, damage) -> None:
    victim = records_in(board_copy)[3]
    changed = CORRUPTIONS[damage](victim.read_text())
    assert changed != victim.read_text()
    if isinstance(changed, bytes):
        victim.write_bytes(changed)
    else:
        victim.write_text(changed)
    refused = byzbench("report", "build", str(board_copy))
    assert refused.code == 1 and "Traceback" not in refused.text
    (message,) = refused.text.strip().splitlines()
    assert str(victim) in message
    with pytest.warns(UserWarning, match=str(victim)):
        skipped = byzbench("report", "build", str(board_copy), "--skip-bad")
    assert skipped.code == 0, skipped.text
    assert f"{TINY_RUNS - 1} runs" in (board_copy / "leaderboard.md").read_text()
    assert victim.stem not in existing_keys(board_copy)  # --resume runs it again
    merged = byzbench("report", "merge", str(board_copy), "--out", str(board_copy.parent / "m"))
    assert merged.code == 1 and str(victim) in merged.text and "Traceback" not in merged.text


def test_folder_named_like_a_record_is_named(board_copy, byzbench) -> None:
    odd = board_copy / "records" / "folder.json"
    odd.mkdir()
    for argv in (("report", "build", str(board_copy)),
                 ("report", "merge", str(board_copy), "--out", str(board_copy.parent / "m"))):
        refused = byzbench(*argv)
        assert refused.code == 1 and str(odd) in refused.text, refused.text
        assert "Traceback" not in refused.text


def test_unwritable_output_folder_is_refused_before_any_run(tmp_path, byzbench,
                                                            cases_here, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if Path(path) == locked else real_access(path, mode, **kw)))
    refused = byzbench("run", str(TINY_GRID), "--leaderboard", str(locked / "board"))
    assert refused.code == 2 and f"{locked} is not writable" in refused.text
    collected = cases_here("--leaderboard", str(locked / "board"))
    assert collected.code == 4 and f"{locked} is not a writable folder" in collected.text
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    refused = byzbench("run", str(TINY_GRID), "--leaderboard", str(blocker / "board"))
    assert refused.code == 2 and f"{blocker} is a file, not a folder" in refused.text
    assert list(locked.iterdir()) == []


class FullDisk:
    """``os.fdopen`` whose files accept ``room`` writes, then fail with ENOSPC."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.real = os.fdopen

    def __call__(self, fd, *args, **kwargs):
        handle = self.real(fd, *args, **kwargs)
        write = handle.write

        def limited(data):
            if self.room <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room -= 1
            return write(data)

        handle.write = limited
        return handle


def test_full_disk_stops_the_command_with_one_line(tmp_path, byzbench, monkeypatch) -> None:
    board = tmp_path / "board"
    monkeypatch.setattr(bench.results.os, "fdopen", FullDisk(room=3))
    stopped = byzbench("run", str(TINY_GRID), "--leaderboard", str(board), "-j", "1")
    monkeypatch.undo()
    assert stopped.code == 1 and "Traceback" not in stopped.text
    (line,) = [line for line in stopped.text.splitlines() if "error" in line]
    assert line.startswith("byzbench: error: cannot save the record of ") and (
        "No space left on device" in line and "3 record(s) saved before it" in line)
    assert len(load_records(board)) == 3 and leftovers(board) == []
    resumed = byzbench("run", str(TINY_GRID), "--leaderboard", str(board), "-j", "1",
                       "--resume")
    assert resumed.code == 0 and len(load_records(board)) == TINY_RUNS


def test_full_disk_stops_pytest_with_one_line(tmp_path, cases_here, monkeypatch) -> None:
    board = tmp_path / "board"
    monkeypatch.setattr(bench.results.os, "fdopen", FullDisk(room=2))
    stopped = cases_here("--leaderboard", str(board))
    monkeypatch.undo()
    assert stopped.code == 1, stopped.text
    assert "INTERNALERROR" not in stopped.text and "Traceback" not in stopped.text
    assert "cannot save records under" in stopped.text
    assert "No space left on device" in stopped.text
    assert len(load_records(board)) == 2 and leftovers(board) == []

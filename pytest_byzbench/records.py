"""byzbench's reporting plugin: run records to leaderboards, the baseline gate and a summary.

* Cases attach each run's record as the ``byzbench_record`` user property.  pytest ships user
  properties from xdist workers to the controller inside the test report, so a parallel run
  gathers the same records as a serial one; ``--leaderboard DIR`` saves them under
  ``DIR/records`` and regenerates every table and picture of DIR.
* ``--baseline FILE_OR_DIR`` with ``--max-drop PP``: a passed case fails when its median final
  accuracy falls more than PP points below the baseline record of the same configuration and
  seeds.  The check runs where the report is made (the worker under xdist) from the report's
  own records; its verdict travels back as the ``byzbench_gate`` user property.
* At the end, a compact table of the cases run, the cases without baseline, and where the
  leaderboard went.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.leaderboard.baseline import MISSING, REGRESSED, Verdict, compare, load_baseline
from bench.results import RecordError, RunRecord, save_record

RECORD_PROPERTY = "byzbench_record"
GATE_PROPERTY = "byzbench_gate"
SHOWN_PROPERTY = "byzbench_shown"  # a test's own summary value (%), e.g. a gate's worst case


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("byzbench")
    group.addoption("--leaderboard", default=None, metavar="DIR",
                    help="save one JSON record per run under DIR/records and regenerate DIR's "
                         "tables and pictures from all of its records")
    group.addoption("--baseline", default=None, metavar="FILE_OR_DIR",
                    help="records to gate against: a case fails when its median accuracy falls "
                         "more than --max-drop points below the baseline's")
    group.addoption("--max-drop", type=float, default=2.0, metavar="PP",
                    help="allowed accuracy drop against --baseline, in percentage points "
                         "(default 2.0)")


@dataclass
class CaseResult:
    nodeid: str
    outcome: str
    duration: float
    records: list[RunRecord] = field(default_factory=list)
    verdict: Verdict | None = None
    shown: float | None = None

    @property
    def value(self) -> float:
        """What the summary shows: the test's own value, else the median primary metric (%)."""
        if self.shown is not None:
            return self.shown
        metrics = self.records[0].metrics
        scale = 100 if metrics.units.get(metrics.primary) == "fraction" else 1
        return statistics.median(scale * (r.metrics.primary_value or 0.0) for r in self.records)

    @property
    def name(self) -> str:
        head, _, param = self.nodeid.partition("[")
        return param[:-1] if param else head


class Reporter:
    """Gate in the process that makes reports; collection and summary in the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.max_drop: float = config.getoption("--max-drop")
        if self.max_drop < 0:
            raise pytest.UsageError(f"--max-drop must be >= 0 points, got {self.max_drop}")
        location = config.getoption("--baseline")
        self.baseline = None
        if location:
            try:
                self.baseline = load_baseline(Path(location))
            except (RecordError, FileNotFoundError, ValueError) as err:
                raise pytest.UsageError(f"--baseline {location}: {err}") from None
        self.results: list[CaseResult] = []
        self.written: list[Path] = []
        self.error: str | None = None
        self.session: pytest.Session | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report: pytest.TestReport = yield
        if report.when != "call" or self.baseline is None:
            return report
        records = _records(report)
        if not records:
            return report
        verdict = compare(records, self.baseline, self.max_drop)
        report.user_properties.append((GATE_PROPERTY, json.dumps(verdict.to_dict())))
        if verdict.status == REGRESSED and report.passed and not hasattr(report, "wasxfail"):
            report.outcome = "failed"
            report.longrepr = f"byzbench baseline gate: {verdict.message}"
        return report

    @pytest.hookimpl(tryfirst=True)  # records are on disk before a test is reported finished
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        records = _records(report)
        if not records:
            return
        verdict = next((Verdict(**json.loads(v)) for k, v in report.user_properties
                        if k == GATE_PROPERTY), None)
        outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        shown = next((float(v) for k, v in report.user_properties if k == SHOWN_PROPERTY), None)
        self.results.append(CaseResult(report.nodeid, outcome, report.duration, records, verdict,
                                       shown))
        out = self.config.getoption("--leaderboard")
        if out and not hasattr(self.config, "workerinput") and self.error is None:
            try:
                for record in records:  # as each test finishes: a killed run keeps what finished
                    save_record(record, Path(out))
            except OSError as err:  # a full disk: stop, rather than run tests whose records go
                self.error = (f"cannot save records under {Path(out) / 'records'}: "
                              f"{err.strerror or err}; records of earlier tests are intact")
                if self.session is not None:
                    self.session.shouldstop = f"byzbench: {self.error}"

    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        out = self.config.getoption("--leaderboard")
        if hasattr(self.config, "workerinput") or not out or not self.results:
            return
        if self.error is not None:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        from bench.leaderboard import build

        try:
            self.written = build(Path(out), skip_bad=True)
        except (RecordError, FileNotFoundError, ValueError, OSError) as err:
            self.error = f"leaderboard {out} not rebuilt: {err}"
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.results or self.config.get_verbosity() < -1:
            return
        write = terminalreporter.write_line
        terminalreporter.section("byzbench")
        gated = self.baseline is not None
        name_width = min(90, max(len(r.name) for r in self.results))
        head = f"{'case':<{name_width}}  {'median':>6}  {'runs':>5}  "
        head += f"{'vs base':>9}  " if gated else ""
        write(head + f"{'time s':>7}  outcome")
        for result in sorted(self.results, key=lambda r: r.name):
            line = (f"{result.name:<{name_width}}  {result.value:6.1f}  "
                    f"{len(result.records):5d}  ")
            if gated:
                line += f"{_versus(result.verdict):>9}  "
            write(line + f"{result.duration:7.1f}  {result.outcome}",
                  red=result.outcome == "failed")
        if gated:
            missing = [r.name for r in self.results
                       if r.verdict is not None and r.verdict.status == MISSING]
            if missing:
                write(f"no baseline in {self.config.getoption('--baseline')} for "
                      f"{len(missing)} case(s) (passed ungated):")
                for name in missing:
                    write(f"  {name}")
            else:
                write(f"every case had a baseline (max drop {self.max_drop:g} points)")
        if self.error:
            write(self.error, red=True)
        elif self.written:
            out = Path(self.config.getoption("--leaderboard"))
            write(f"leaderboard: {len(self.written)} files in {out} "
                  f"({out / 'leaderboard.md'}, {out / 'leaderboard.html'})")


def _records(report: pytest.TestReport) -> list[RunRecord]:
    return [RunRecord.from_dict(json.loads(value)) for key, value in report.user_properties
            if key == RECORD_PROPERTY]


def _versus(verdict: Verdict | None) -> str:
    if verdict is None or verdict.drop is None:
        return "missing" if verdict is not None else ""
    change = -verdict.drop
    return f"{change if abs(change) >= 0.05 else 0.0:+.1f}"


REPORTER = pytest.StashKey[Reporter]()


def check_output_folder(option: str, value: str | None) -> None:
    """Refuse, before any test runs, an output folder that is a file or cannot be written."""
    if not value:
        return
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise pytest.UsageError(f"{option} {value}: is a file, not a folder")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"{option} {value}: {probe} is not a writable folder")


def pytest_configure(config: pytest.Config) -> None:
    check_output_folder("--leaderboard", config.getoption("--leaderboard"))
    config.stash[REPORTER] = Reporter(config)
    config.pluginmanager.register(config.stash[REPORTER], "byzbench-reporter")

"""A live progress line for long runs: done / total, running, failed, elapsed and ETA.

On a terminal the line is redrawn in place; elsewhere (CI logs, pipes) one line is printed per
finished run, so logs stay readable.
"""

from __future__ import annotations

import sys
from typing import TextIO


def clock(seconds: float | None) -> str:
    """``1:05`` for 65 s; ``?`` when unknown."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Shows a :class:`bench.schedule.Tally` as it changes."""

    width = 24

    def __init__(self, total: int, stream: TextIO = sys.stdout) -> None:
        self.total = total
        self.stream = stream
        self.live = stream.isatty()

    def line(self, tally) -> str:
        finished = tally.done + tally.failed + tally.skipped
        filled = int(self.width * finished / self.total) if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        parts = [f"[{bar}] {finished}/{self.total}", f"running {tally.running}"]
        if tally.failed:
            parts.append(f"failed {tally.failed}")
        if tally.skipped:
            parts.append(f"skipped {tally.skipped}")
        parts.append(f"elapsed {clock(tally.elapsed)}, eta {clock(tally.eta())}")
        return ", ".join(parts)

    def update(self, tally, result=None) -> None:
        if self.live:
            self.stream.write("\r" + self.line(tally).ljust(100))
            self.stream.flush()
        elif result is not None:
            name = result.job.label
            outcome = "ok" if result.record is not None else "ERROR"
            if result.record is not None:
                spec = result.record.metrics
                value = spec.primary_value
                shown = (f"{100 * value:.1f}%" if spec.units.get(spec.primary) == "fraction"
                         and value is not None else f"{value}")
                outcome = f"{spec.primary} {shown}"
            self.stream.write(f"{self.line(tally)} | {name}: {outcome} "
                              f"({result.seconds:.1f}s)\n")
            self.stream.flush()

    def close(self, tally) -> None:
        if self.live:
            self.stream.write("\r" + self.line(tally).ljust(100) + "\n")
            self.stream.flush()

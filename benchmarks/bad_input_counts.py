"""Feed byzbench a generated family of bad inputs and count how each is answered.

Families: malformed grids (every FedSGD/FedAvg setting with a wrong type, an out-of-range value
and an unknown key; every registered component of every slot with an unknown parameter, each
slot with an unknown name; top-level fields), command-line options of ``byzbench run``, ``list``
and ``report``, pytest options, and external rules for the gate.  Each input is one of

* **clear**: non-zero exit, no traceback, the message names the field (or value), nothing written;
* **unclear**: refused without a traceback, but the message does not name the field, or
  something was written;
* **traceback**: an exception escaped, or ``Traceback``/``INTERNALERROR`` was printed;
* **silent**: accepted (a grid that would start running counts here; it is stopped first).

Everything runs in this process (the command's ``main`` and ``pytest.main``), so the whole
family takes seconds.  Usage::

    PYTHONPATH=. python benchmarks/bad_input_counts.py          # counts, and every non-clear input
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY_GRID = ROOT / "tests" / "reports" / "tiny_grid.yaml"  # 2 defenses x 2 attacks x 2 seeds
GRID_CASES = ROOT / "tests" / "reports" / "grid_cases.py"  # its pytest cases
TINY_RUNS = 8
VERDICTS = ("clear", "unclear", "traceback", "silent")


@dataclass
class Outcome:
    """Exit code and everything printed; ``escaped`` when an exception left ``main``."""

    code: int | str | None
    text: str
    escaped: bool = False


def _captured(call: Callable[[], int | None]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    environment = dict(os.environ)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = call()
        escaped = False
    except SystemExit as stop:
        code, escaped = stop.code, False
    except Exception:  # noqa: BLE001  (what a user would see as a traceback)
        code, escaped = "exception", True
        err.write(traceback.format_exc())
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return Outcome(code, err.getvalue() + out.getvalue(), escaped)


def byzbench_here(*argv: str) -> Outcome:
    """``byzbench ARGV`` in this process."""
    from bench.cli import main

    return _captured(lambda: main(list(argv)))


def inner_pytest(*args: str) -> Outcome:
    """``pytest ARGS -q`` in this process (no capture, no xdist, no cache)."""
    import pytest

    return _captured(lambda: int(pytest.main([*args, "-q", "-s", "-p", "no:xdist",
                                              "-p", "no:cacheprovider"])))


class Accepted(Exception):
    """Raised instead of running the jobs of a grid that passed every check."""


@contextlib.contextmanager
def stop_before_running() -> Iterator[None]:
    import bench.schedule

    def refuse(*args, **kwargs):
        raise Accepted

    saved = bench.schedule.run_jobs
    bench.schedule.run_jobs = refuse
    try:
        yield
    finally:
        bench.schedule.run_jobs = saved


@dataclass(frozen=True)
class Probe:
    """One bad input: ``family``, a ``label`` saying what is wrong, the ``field`` the message
    must name, and ``run(out)`` which feeds it (``out``: an output folder that must stay
    absent)."""

    family: str
    label: str
    field: str
    run: Callable[[Path], Outcome]


def judge(probe: Probe, scratch: Path) -> tuple[str, Outcome]:
    out = scratch / "out"
    try:
        with stop_before_running():
            outcome = probe.run(out)
    except Accepted:
        return "silent", Outcome(0, "accepted: the jobs would have run")
    if outcome.escaped or "Traceback" in outcome.text or "INTERNALERROR" in outcome.text:
        return "traceback", outcome
    if outcome.code in (0, None):
        return "silent", outcome
    named = re.search(rf"(?<![\w-]){re.escape(probe.field)}(?![\w-])", outcome.text)
    return ("clear" if named and not out.exists() else "unclear"), outcome


# --- grids ----------------------------------------------------------------------------------

BASE_GRID = {
    "tier": "smoke",
    "protocol": "fedsgd",
    "seeds": [0],
    "split_seed": 0,
    "defaults": {"n": 5, "f": 1, "batch_size": 16, "epochs": 2, "lr": 0.05,
                 "lr_milestones": [], "max_train": 400},
    "settings": [{"dataset": "blobs", "model": "linear", "split": "iid"}],
    "defenses": ["tm"],
    "attacks": ["alie"],
    "expect": {"floor": 0.3},
}
FEDAVG_DEFAULTS = {"local_steps": 2, "local_momentum": 0.0, "participation": 1.0,
                   "server_lr": 1.0}

#: setting -> bad values: wrong types first, then values out of range
BAD_SETTINGS: dict[str, list[object]] = {
    "n": ["abc", [5], 10.5, True, 0, -1],
    "f": ["abc", 1.5, -1, 5],
    "batch_size": ["abc", 2.5, 0, 100000],
    "epochs": ["abc", [2], 0, -1, float("inf")],
    "lr": ["abc", 0, -0.1, float("nan")],
    "lr_milestones": ["abc", 5, [-1], ["x"]],
    "lr_gamma": ["abc", 0, -1],
    "engine": [3, "nosuch"],
    "max_train": ["abc", 2.5, 0],
    "beta": ["abc", 1.0, -0.1, 1.5],
}
BAD_FEDAVG_SETTINGS: dict[str, list[object]] = {
    "local_steps": ["abc", 1.5, 0],
    "local_momentum": ["abc", 1.0, -0.5],
    "participation": ["abc", 0, 1.5, 0.01],
    "server_lr": ["abc", 0, -1],
}
BAD_COMPONENT_VALUES = [  # (slot, component, field): a parameter out of its range
    ("defenses", {"name": "cc", "params": {"tau": -1}}, "tau"),
    ("defenses", {"name": "cc", "params": {"tau": "abc"}}, "tau"),
    ("attacks", {"name": "gaussian", "params": {"std": -1}}, "std"),
    ("split", {"name": "dirichlet", "params": {"alpha": -1}}, "alpha"),
    ("model", {"name": "mlp", "params": {"hidden": 7}}, "hidden"),
    ("dataset", {"name": "blobs", "params": {"classes": 1}}, "classes"),
]


def _grid(**changes: object) -> dict:
    grid = yaml.safe_load(yaml.safe_dump(BASE_GRID))
    for key, value in changes.items():
        grid[key] = value
    return grid


def _with_setting(grid: dict, name: str, value: object) -> dict:
    grid["defaults"] = {**grid["defaults"], name: value}
    return grid


def _grid_probe(family: str, label: str, field: str, grid: object | str) -> Probe:
    text = grid if isinstance(grid, str) else yaml.safe_dump(grid)

    def run(out: Path) -> Outcome:
        path = out.parent / "grid.yaml"
        path.write_text(text)
        return byzbench_here("run", str(path), "--leaderboard", str(out), "-j", "1")

    return Probe(family, label, field, run)


def _component_slot(grid: dict, slot: str, component: object) -> dict:
    if slot in ("defenses", "attacks"):
        grid[slot] = [component]
    elif slot == "pre":
        grid["defenses"] = [{"name": "tm", "pre": [component]}]
    else:
        grid["settings"] = [{**grid["settings"][0], slot: component}]
    return grid


def grid_probes() -> Iterator[Probe]:
    from bench.registry import ALL

    for protocol, bad, extra in (("fedsgd", BAD_SETTINGS, {}),
                                 ("fedavg", {k: v for k, v in BAD_SETTINGS.items()
                                             if k != "beta"} | BAD_FEDAVG_SETTINGS,
                                  FEDAVG_DEFAULTS)):
        for name, values in bad.items():
            for value in values:
                grid = _grid(protocol=protocol, defaults={**BASE_GRID["defaults"], **extra})
                yield _grid_probe("grid settings", f"{protocol} {name}: {value!r}", name,
                                  _with_setting(grid, name, value))
        grid = _grid(protocol=protocol, defaults={**BASE_GRID["defaults"], **extra})
        yield _grid_probe("grid settings", f"{protocol} unknown setting", "bogus_setting",
                          _with_setting(grid, "bogus_setting", 1))
        grid = _grid(protocol=protocol, defaults={**BASE_GRID["defaults"], **extra})
        grid["settings"] = [{**grid["settings"][0], "batch_sise": 8}]
        yield _grid_probe("grid settings", f"{protocol} typo in a setting row", "batch_sise",
                          grid)
    slots = {"defenses": "aggregators", "pre": "preaggregators", "attacks": "attacks",
             "dataset": "datasets", "model": "models", "split": "partitioners"}
    for slot, kind in slots.items():
        yield _grid_probe("grid components", f"{slot}: unknown name", "zzznope",
                          _component_slot(_grid(), slot, "zzznope"))
        for name in ALL[kind].names():
            component = {"name": name, "params": {"bogus_param": 1}}
            yield _grid_probe("grid components", f"{slot}: {name} with an unknown parameter",
                              "bogus_param", _component_slot(_grid(), slot, component))
    for slot, component, field in BAD_COMPONENT_VALUES:
        yield _grid_probe("grid components", f"{slot}: {component}", field,
                          _component_slot(_grid(), slot, component))
    top: list[tuple[str, str, object]] = [
        ("seeds: [abc]", "seeds", _grid(seeds=["abc"])),
        ("seeds: [-1]", "seeds", _grid(seeds=[-1])),
        ("seeds: [0, 0]", "seeds", _grid(seeds=[0, 0])),
        ("seeds: '0'", "seeds", _grid(seeds="0")),
        ("seeds: []", "seeds", _grid(seeds=[])),
        ("split_seed: -1", "split_seed", _grid(split_seed=-1)),
        ("split_seed: a", "split_seed", _grid(split_seed="a")),
        ("tier: nosuch", "tier", _grid(tier="nosuch")),
        ("protocol: nosuch", "protocol", _grid(protocol="nosuch")),
        ("expect.floor: 95", "floor", _grid(expect={"floor": 95})),
        ("expect.floor: -0.1", "floor", _grid(expect={"floor": -0.1})),
        ("expect.floor: abc", "floor", _grid(expect={"floor": "abc"})),
        ("expect without floor", "floor", _grid(expect={})),
        ("expect.cells ceiling: 2", "ceiling",
         _grid(expect={"floor": 0.3, "cells": [{"attack": "alie", "ceiling": 2}]})),
        ("expect.cells unknown key", "bogus_key",
         _grid(expect={"floor": 0.3, "cells": [{"bogus_key": 1}]})),
        ("expect.cells bounds low > high", "final_accuracy",
         _grid(expect={"floor": 0.3, "cells": [{"bounds": {"final_accuracy": [1, 0]}}]})),
        ("expect.cells bounds unknown metric", "nosuch_metric",
         _grid(expect={"floor": 0.3, "cells": [{"bounds": {"nosuch_metric": [0, 1]}}]})),
        ("timing share 0", "max_aggregation_share", _grid(timing={"max_aggregation_share": 0})),
        ("timing unknown key", "timing", _grid(timing={"bogus": 1})),
        ("settings row without model", "model", _grid(settings=[{"dataset": "blobs"}])),
        ("settings not a list", "settings", _grid(settings="blobs")),
        ("defenses: []", "defenses", _grid(defenses=[])),
        ("attacks: []", "attacks", _grid(attacks=[])),
        ("vary with an empty list", "vary", _grid(vary={"beta": []})),
        ("vary an unknown setting", "bogus_vary", _grid(vary={"bogus_vary": [1]})),
        ("defaults a list", "defaults", _grid(defaults=[1])),
        ("unknown top-level key", "bogus_top", _grid(bogus_top=1)),
        ("top level a list", "mapping", "- 1\n- 2\n"),
        ("empty file", "mapping", ""),
        ("invalid YAML", "YAML", "tier: smoke\nsettings: [\n"),
    ]
    for label, field, grid in top:
        yield _grid_probe("grid top level", label, field, grid)


# --- command-line options -------------------------------------------------------------------


def _cli_probe(family: str, field: str, *argv: str) -> Probe:
    def run(out: Path) -> Outcome:
        return byzbench_here(*[str(out) if a == "{out}" else a for a in argv])

    return Probe(family, " ".join(argv), field, run)


def cli_probes() -> Iterator[Probe]:
    grid = str(TINY_GRID)
    run = ("run", grid, "--leaderboard", "{out}")
    for option, value in (("--threads", "0"), ("--threads", "-3"), ("--threads", "x"),
                          ("--jobs", "0"), ("--jobs", "abc"), ("--seeds", "abc"),
                          ("--seeds", "-1"), ("--seeds", "1,1"), ("--seeds", ""),
                          ("--device", "tpu")):
        yield _cli_probe("byzbench options", option, *run, option, value)
    yield _cli_probe("byzbench options", "--select", *run, "--select", "zzznope")
    yield _cli_probe("byzbench options", "nosuch-grid", "run", "nosuch-grid", "--leaderboard",
                     "{out}")
    yield _cli_probe("byzbench options", "nosuch.yaml", "run", "nosuch.yaml", "--leaderboard",
                     "{out}")
    yield _cli_probe("byzbench options", "folder", "run", str(ROOT / "tests"), "--leaderboard",
                     "{out}")
    yield _cli_probe("byzbench options", "--leaderboard", "run", grid, "--leaderboard", grid)
    yield _cli_probe("byzbench options", "--leaderboard", "run", grid, "--leaderboard",
                     f"{grid}/sub")
    yield _cli_probe("byzbench options", "--nosuch", "run", grid, "--nosuch")
    yield _cli_probe("byzbench options", "nosuch", "nosuch")
    yield _cli_probe("byzbench options", "COMMAND")
    yield _cli_probe("byzbench options", "nosuch", "list", "nosuch")
    yield _cli_probe("byzbench options", "COMMAND", "report")
    for command in ("build", "migrate"):
        yield _cli_probe("byzbench options", "{out}", "report", command, "{out}")
        yield _cli_probe("byzbench options", "DIR", "report", command)
    yield _cli_probe("byzbench options", "{out}", "report", "merge", "{out}", "--out", "{out}")
    yield _cli_probe("byzbench options", "--out", "report", "merge", "{out}")


def _named_out(probe: Probe) -> Probe:
    """A probe whose message must name its output folder (whatever its scratch path)."""
    if probe.field != "{out}":
        return probe

    def run(out: Path) -> Outcome:
        outcome = probe.run(out)
        outcome.text = outcome.text.replace(str(out), "{out}")
        return outcome

    return Probe(probe.family, probe.label, "{out}", run)


def _pytest_probe(field: str, *args: str) -> Probe:
    def run(out: Path) -> Outcome:
        return inner_pytest(str(GRID_CASES), "--co",
                           *[str(out) if a == "{out}" else a for a in args])

    return Probe("pytest options", " ".join(args), field, run)


def pytest_probes() -> Iterator[Probe]:
    grid = str(TINY_GRID)
    for option, value in (("--seeds", "abc"), ("--seeds", "-1"), ("--seeds", "1,1"),
                          ("--max-drop", "-1"), ("--max-drop", "abc"), ("--tier", "nosuch"),
                          ("--device", "tpu"), ("--baseline", "{out}"), ("--baseline", grid),
                          ("--leaderboard", grid), ("--leaderboard", f"{grid}/sub"),
                          ("--data-root", grid), ("--dump-selection", "{out}/sub/f.json")):
        yield _pytest_probe(option, option, value)
    yield _pytest_probe("--aggregator-param", "--aggregator-param", "tau=1")


# --- external rules -------------------------------------------------------------------------

RULES = '''
import torch


class Krum:
    """Named like a registered rule."""

    def __init__(self, f=0):
        self.f = f

    def __call__(self, updates):
        return updates.mean(0)


class Picky:
    """Refuses its hyperparameter."""

    def __init__(self, f=0, level=1):
        if level < 0:
            raise ValueError(f"level must be >= 0, got {level}")

    def __call__(self, updates):
        return updates.mean(0)


class NoByzantineCount:
    """Takes no f."""

    def __init__(self):
        pass

    def __call__(self, updates):
        return updates.mean(0)


NOT_A_RULE = 3
'''


def _gate_probe(field: str, *args: str) -> Probe:
    from bench.registry import aggregators

    def run(out: Path) -> Outcome:
        folder = out.parent / "rules"
        folder.mkdir(exist_ok=True)
        module = f"rules_{out.parent.name.replace('-', '_')}"
        (folder / f"{module}.py").write_text(RULES)
        sys.path.insert(0, str(folder))
        registered = dict(aggregators._entries)  # one session per probe: forget its rule after
        try:
            return inner_pytest(str(ROOT / "cases" / "test_gate.py"), "--co", "-m", "gate",
                               *[a.replace("{module}", module) for a in args])
        finally:
            sys.path.remove(str(folder))
            aggregators._entries.clear()
            aggregators._entries.update(registered)

    return Probe("external rules", " ".join(args), field, run)


def rule_probes() -> Iterator[Probe]:
    yield _gate_probe("nosuch_rule", "--aggregator", "nosuch_rule")
    yield _gate_probe("nosuch_module", "--aggregator", "nosuch_module:Rule")
    yield _gate_probe("Missing", "--aggregator", "{module}:Missing")
    yield _gate_probe("--aggregator-name", "--aggregator", "{module}:Krum")
    yield _gate_probe("Bad Name", "--aggregator", "{module}:Krum", "--aggregator-name",
                      "Bad Name")
    yield _gate_probe("level", "--aggregator", "{module}:Picky", "--aggregator-param",
                      "level=-1")
    yield _gate_probe("bogus", "--aggregator", "{module}:Picky", "--aggregator-param",
                      "bogus=1")
    yield _gate_probe("K=V", "--aggregator", "{module}:Picky", "--aggregator-param", "level")
    yield _gate_probe("f", "--aggregator", "{module}:NoByzantineCount")
    yield _gate_probe("NOT_A_RULE", "--aggregator", "{module}:NOT_A_RULE")
    yield _gate_probe("tau", "--aggregator", "cc", "--aggregator-param", "tau=-1")
    yield _gate_probe("bogus", "--aggregator", "cc", "--aggregator-param", "bogus=1")
    yield _gate_probe("--aggregator-name", "--aggregator", "cc", "--aggregator-name", "mine")


FAMILIES: dict[str, Callable[[], Iterator[Probe]]] = {
    "grids": grid_probes,
    "byzbench options": lambda: (_named_out(p) for p in cli_probes()),
    "pytest options": lambda: (_named_out(p) for p in pytest_probes()),
    "external rules": rule_probes,
}


def tally(family: str) -> tuple[Counter, list[tuple[Probe, str, Outcome]]]:
    """Counts of each verdict over ``family``'s probes, and the probes that were not clear."""
    import bench  # noqa: F401  (registers every component)

    counts: Counter = Counter()
    unclear = []
    for probe in FAMILIES[family]():
        with tempfile.TemporaryDirectory() as scratch:
            verdict, outcome = judge(probe, Path(scratch))
        counts[verdict] += 1
        if verdict != "clear":
            unclear.append((probe, verdict, outcome))
    return counts, unclear


def main() -> int:
    total: Counter = Counter()
    print(f"{'family':<18} {'tried':>5} " + " ".join(f"{v:>9}" for v in VERDICTS))
    problems = []
    for family in FAMILIES:
        counts, unclear = tally(family)
        total.update(counts)
        problems += unclear
        print(f"{family:<18} {sum(counts.values()):5d} "
              + " ".join(f"{counts[v]:9d}" for v in VERDICTS))
    print(f"{'all':<18} {sum(total.values()):5d} " + " ".join(f"{total[v]:9d}" for v in VERDICTS))
    for probe, verdict, outcome in problems:
        last = outcome.text.strip().splitlines()[-1:] or [""]
        print(f"{verdict}: {probe.family}: {probe.label} (field {probe.field}): {last[0][:200]}")
    return 1 if total["traceback"] or total["silent"] else 0


if __name__ == "__main__":
    sys.exit(main())

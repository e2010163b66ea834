"""The result record of one run: the JSON-serializable source of truth for every leaderboard.

One :class:`RunRecord` per (scenario, seeds) run, written as one JSON file named by its
:attr:`~RunRecord.key` (configuration hash plus seeds), so a rerun of the same case replaces its
file.  The record carries the full configuration, so any table can be regenerated from records
alone.

Schema (version 3)::

    schema_version  int            3
    created         str            ISO 8601 time the run finished (UTC), newest wins on merge
    config_hash     str            Scenario.config_hash() of ``scenario`` (checked on load)
    tier            str            smoke | standard | paper | gate
    scenario        object         {protocol, dataset, model, defense, attack, settings}
    seeds           {split, train} ints
    metrics         primary (name), values ({name: number or null}), units ({name: unit}),
                    curves ({name: [numbers]}), diverged (bool), diagnostics ({name: number
                    or null})
    timing          wall_s, phases ({name: seconds}: clients, attack, aggregation, ...),
                    counters ({name: int}: rounds, ...)
    reference       null, or {value, tolerance, source}: the expected primary value the grid
                    gave the case (a paper's or a committed measurement) beside the measured one
    environment     {name: str}: package versions, device, device_name, git_revision

Version 2 records (FedSGD only, one flat scenario) load through :func:`migrate_v2`.
:func:`RunRecord.from_dict` validates all of it and names the offending field on error, e.g.
``record metrics.values.final_accuracy: expected a number, got 'abc'``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 3
READABLE_VERSIONS = (2, 3)
REQUIRED_ENVIRONMENT = ("python", "torch", "device_name", "git_revision")


class RecordError(ValueError):
    """A record that does not follow the schema; the message names the field."""


def now_iso() -> str:
    """The current UTC time as ISO 8601 with microseconds (orders records run close together)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class Metrics:
    """The protocol's metrics: ``values[primary]`` is what cases and tables rank on; units
    say how to read each value (``fraction`` values are accuracies in [0, 1])."""

    primary: str
    values: dict[str, float | None]
    units: dict[str, str]
    curves: dict[str, list[float]] = field(default_factory=dict)
    diverged: bool = False
    diagnostics: dict[str, float | None] = field(default_factory=dict)

    @property
    def primary_value(self) -> float | None:
        return self.values.get(self.primary)

    def value(self, name: str) -> float | None:
        """A metric, falling back to the diagnostics for names the protocol did not declare."""
        return self.values[name] if name in self.values else self.diagnostics.get(name)


@dataclass
class Timing:
    """Wall-clock seconds of the run, seconds by phase, and counts (rounds, retrains, ...)."""

    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def share(self, phase: str) -> float:
        """``phase``'s fraction of the time spent in all phases."""
        total = sum(self.phases.values())
        return self.phases.get(phase, 0.0) / total if total > 0 else 0.0


@dataclass
class Reference:
    """The value a grid expected for the primary metric, with its tolerance and source."""

    value: float
    tolerance: float
    source: str


@dataclass
class RunRecord:
    """Everything needed to place one run in a leaderboard and to reproduce it."""

    scenario: dict[str, Any]
    seeds: dict[str, int]
    metrics: Metrics
    timing: Timing
    environment: dict[str, Any]
    config_hash: str
    tier: str = "smoke"
    reference: Reference | None = None
    created: str = field(default_factory=now_iso)
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> str:
        """Identity of the run: configuration hash plus seeds."""
        return f"{self.config_hash}-s{self.seeds['split']}-t{self.seeds['train']}"

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    @property
    def protocol(self) -> str:
        return str(self.scenario["protocol"])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("values", "diagnostics"):
            out["metrics"][key] = {
                k: (float(v) if v is not None and math.isfinite(v) else None)
                for k, v in out["metrics"][key].items()
            }
        return out

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Validate ``data`` against the schema and build the record (or raise RecordError).
        Version 2 records are migrated first."""
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version not in READABLE_VERSIONS:
            raise RecordError(
                f"record schema_version: this byzbench reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}, got {version!r}"
            )
        if version == 2:
            data = migrate_v2(data)
        top = _fields(data, cls, "", set())
        checked = {name: _CHECKS[name](value, name) for name, value in top.items()}
        record = cls(**checked)
        expected = _scenario_hash(record.scenario)
        if record.config_hash != expected:
            raise RecordError(f"record config_hash: {record.config_hash!r} does not match its "
                              f"scenario (which hashes to {expected!r}); the file was edited "
                              "or corrupted")
        return record

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        return cls.from_dict(json.loads(text))


# --- version 2 ------------------------------------------------------------------------------

V2_SETTINGS = ("n", "f", "beta", "batch_size", "epochs", "lr", "lr_milestones", "lr_gamma",
               "engine", "max_train")


def migrate_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A version 2 record (FedSGD, flat scenario) in version 3's layout.

    Its hash is checked against the v2 scenario as it was hashed then, and replaced by the
    hash of the migrated scenario.  v2 timed the attack inside the clients' phase: that phase
    becomes ``clients_with_attack``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), dict):
        raise RecordError("record scenario: expected an object")
    old = data["scenario"]
    blob = json.dumps(old, sort_keys=True, default=str)
    if hashlib.sha256(blob.encode()).hexdigest()[:16] != data.get("config_hash"):
        raise RecordError("record config_hash: does not match its (version 2) scenario")
    try:
        scenario = {
            "protocol": old["protocol"],
            "dataset": old["dataset"],
            "model": old["model"],
            "defense": old["defense"],
            "attack": old["attack"],
            "settings": {"split": old["split"], **{k: old[k] for k in V2_SETTINGS if k in old}},
        }
        metrics, timing = data["metrics"], data["timing"]
        migrated = {
            **{k: v for k, v in data.items() if k not in ("scenario", "metrics", "timing")},
            "schema_version": SCHEMA_VERSION,
            "scenario": scenario,
            "metrics": {
                "primary": "final_accuracy",
                "values": {"final_accuracy": metrics["final_accuracy"],
                           "best_accuracy": metrics["best_accuracy"]},
                "units": {"final_accuracy": "fraction", "best_accuracy": "fraction"},
                "curves": {"test_accuracy": metrics["curve"]},
                "diverged": metrics["diverged"],
                "diagnostics": metrics["diagnostics"],
            },
            "timing": {
                "wall_s": timing["wall_s"],
                "phases": {"clients_with_attack": timing["gradient_s"],
                           "aggregation": timing["aggregation_s"]},
                "counters": {"rounds": timing["rounds"]},
            },
            "reference": None,
        }
    except (KeyError, TypeError) as err:
        raise RecordError(f"record (version 2): missing field {err}") from None
    migrated["config_hash"] = _scenario_hash(scenario)
    return migrated


def _scenario_hash(scenario: dict[str, Any]) -> str:
    from bench.scenario import config_hash

    return config_hash(scenario)


# --- validation -----------------------------------------------------------------------------


def _fail(where: str, expected: str, value: Any) -> RecordError:
    return RecordError(f"record {where}: expected {expected}, got {value!r}")


def _fields(data: Any, cls: type, where: str, derived: set[str]) -> dict[str, Any]:
    """The fields of dataclass ``cls`` in ``data``: files carry every field (defaults are for
    code that builds records), so a missing or unknown one raises."""
    label = where or "top level"
    if not isinstance(data, dict):
        raise _fail(label, "an object", data)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known - derived)
    if unknown:
        raise RecordError(f"record {label}: unknown field(s) {unknown}")
    missing = [f.name for f in fields(cls) if f.name not in data]
    if missing:
        path = ".".join(p for p in (where, missing[0]) if p)
        raise RecordError(f"record {path}: missing")
    return {k: v for k, v in data.items() if k in known}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, "a number", value)
    if not math.isfinite(value):
        raise _fail(where, "a finite number", value)
    return float(value)


def _non_negative(value: Any, where: str) -> float:
    number = _number(value, where)
    if number < 0:
        raise _fail(where, "a number >= 0", value)
    return number


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, "an integer", value)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, "a non-empty string", value)
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "true or false", value)
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "an object", value)
    return value


def _optional_numbers(value: Any, where: str) -> dict[str, float | None]:
    return {
        k: None if v is None else _number(v, f"{where}.{k}")
        for k, v in _mapping(value, where).items()
    }


def _curves(value: Any, where: str) -> dict[str, list[float]]:
    out = {}
    for name, series in _mapping(value, where).items():
        if not isinstance(series, list):
            raise _fail(f"{where}.{name}", "a list of numbers", series)
        out[name] = [_number(v, f"{where}.{name}[{i}]") for i, v in enumerate(series)]
    return out


def _seeds(value: Any, where: str) -> dict[str, int]:
    seeds = _mapping(value, where)
    wrong = sorted(set(seeds) ^ {"split", "train"})
    if wrong:
        raise _fail(where, "exactly the keys 'split' and 'train'", seeds)
    return {k: _integer(seeds[k], f"{where}.{k}") for k in ("split", "train")}


def _scenario(value: Any, where: str) -> dict[str, Any]:
    from bench.scenario import Scenario

    try:
        Scenario.from_dict(_mapping(value, where))
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise RecordError(f"record {where}: {err}") from None
    return dict(value)


def _environment(value: Any, where: str) -> dict[str, str]:
    env = _mapping(value, where)
    for key in REQUIRED_ENVIRONMENT:
        if key not in env:
            raise RecordError(f"record {where}.{key}: missing")
    return {k: _text(v, f"{where}.{k}") for k, v in env.items()}


def _created(value: Any, where: str) -> str:
    text = _text(value, where)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(where, "an ISO 8601 time", value) from None
    if stamp.tzinfo is None:
        raise _fail(where, "an ISO 8601 time with a UTC offset", value)
    return text


def _metrics(value: Any, where: str) -> Metrics:
    data = _fields(value, Metrics, where, set())
    checks: dict[str, Callable[[Any, str], Any]] = {
        "primary": _text,
        "values": _optional_numbers,
        "units": lambda v, w: {k: _text(u, f"{w}.{k}") for k, u in _mapping(v, w).items()},
        "curves": _curves,
        "diverged": _flag,
        "diagnostics": _optional_numbers,
    }
    metrics = Metrics(**{k: checks[k](v, f"{where}.{k}") for k, v in data.items()})
    if metrics.primary not in metrics.values:
        raise RecordError(f"record {where}.values: has no value for the primary metric "
                          f"{metrics.primary!r}")
    for name, unit in metrics.units.items():
        number = metrics.values.get(name)
        if unit == "fraction" and number is not None and not 0.0 <= number <= 1.0:
            raise _fail(f"{where}.values.{name}", "a fraction in [0, 1]", number)
    return metrics


def _timing(value: Any, where: str) -> Timing:
    data = _fields(value, Timing, where, set())
    checks: dict[str, Callable[[Any, str], Any]] = {
        "wall_s": _non_negative,
        "phases": lambda v, w: {k: _non_negative(s, f"{w}.{k}")
                                for k, s in _mapping(v, w).items()},
        "counters": lambda v, w: {k: _integer(c, f"{w}.{k}") for k, c in _mapping(v, w).items()},
    }
    return Timing(**{k: checks[k](v, f"{where}.{k}") for k, v in data.items()})


def _reference(value: Any, where: str) -> Reference | None:
    if value is None:
        return None
    data = _fields(value, Reference, where, set())
    return Reference(value=_number(data["value"], f"{where}.value"),
                     tolerance=_non_negative(data["tolerance"], f"{where}.tolerance"),
                     source=_text(data["source"], f"{where}.source"))


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "scenario": _scenario,
    "seeds": _seeds,
    "metrics": _metrics,
    "timing": _timing,
    "environment": _environment,
    "config_hash": _text,
    "tier": _text,
    "reference": _reference,
    "created": _created,
    "schema_version": _integer,
}


# --- files ----------------------------------------------------------------------------------


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` via a synced temporary file and a rename: readers and
    interrupted runs see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would keep published files private
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode() if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_record(record: RunRecord, directory: Path) -> Path:
    """Write ``record`` as ``DIR/records/<key>.json`` (a rerun replaces it)."""
    path = Path(directory) / "records" / f"{record.key}.json"
    write_atomic(path, record.to_json(indent=1) + "\n")
    return path


def record_files(location: Path) -> list[Path]:
    """The record files at ``location``: a JSON file, a folder of them, or a leaderboard folder
    (its ``records`` subfolder)."""
    location = Path(location)
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise FileNotFoundError(f"{location}: no such record file or folder")
    folder = location / "records" if (location / "records").is_dir() else location
    return sorted(folder.glob("*.json"))


def read_record_file(path: Path) -> list[RunRecord]:
    """The records in ``path``: one record object, or a list of them; errors name the file."""
    try:
        data = json.loads(Path(path).read_text())
        items = data if isinstance(data, list) else [data]
        return [RunRecord.from_dict(item) for item in items]
    except (RecordError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RecordError(f"{path}: {err}") from None
    except OSError as err:  # a folder named like a record, an unreadable file
        raise RecordError(f"{path}: cannot read: {err.strerror or err}") from None


def load_records(location: Path, skip_bad: bool = False) -> list[RunRecord]:
    """Every record at ``location`` (see :func:`record_files`).  A bad file raises naming it,
    or, with ``skip_bad``, is left out with a warning naming it and why."""
    out: list[RunRecord] = []
    for path in record_files(location):
        try:
            out += read_record_file(path)
        except (RecordError, OSError, UnicodeDecodeError) as err:
            if not skip_bad:
                raise RecordError(str(err)) from None
            warnings.warn(f"skipped {err}", stacklevel=2)
    return out


# --- environment ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(device: str) -> dict[str, str]:
    """Package versions, device name and git revision of this process."""
    import numpy
    import torch

    import bench

    name = device
    if device.startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    return {
        "byzbench": bench.__version__,
        "torch": torch.__version__,
        "cuda": torch.version.cuda or "cpu-only",
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "device_name": name,
        "git_revision": _git_revision(),
    }

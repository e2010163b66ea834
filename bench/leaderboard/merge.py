"""Merging record folders from several runs or machines into one leaderboard folder.

Rules, checked on every input before anything is written:

* all records share one schema version (else: an error naming the versions and their files);
* records under one key (configuration hash + seeds) have the same configuration, i.e. the same
  scenario and tier (else: an error naming the key, both files and the differing fields);
* among records of one key, the newest by ``created`` is kept (repeats of a run replace it).

The output folder's own records take part like any input, then every table and picture is
regenerated from the merged records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.leaderboard.build import build
from bench.results import RecordError, RunRecord, read_record_file, record_files, save_record


class MergeError(ValueError):
    """Inputs that cannot be merged; the message names the key or version and the files."""


@dataclass(frozen=True)
class MergeSummary:
    files: int
    records: int
    kept: int
    written: list[Path]

    @property
    def replaced(self) -> int:
        return self.records - self.kept


def _version(path: Path) -> list[object]:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RecordError(f"{path}: not JSON: {err}") from None
    except OSError as err:
        raise RecordError(f"{path}: cannot read: {err.strerror or err}") from None
    items = data if isinstance(data, list) else [data]
    return [item.get("schema_version") if isinstance(item, dict) else None for item in items]


def _check_versions(files: list[Path]) -> None:
    by_version: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        for version in _version(path):
            by_version[repr(version)].append(path)
    if len(by_version) > 1:
        listing = "; ".join(
            f"version {v} in {len(p)} file(s), e.g. {p[0]}" for v, p in sorted(by_version.items())
        )
        raise MergeError(f"refusing to merge records of different schema versions: {listing}")


def _differences(a: RunRecord, b: RunRecord) -> list[str]:
    fields = [f"scenario.{k}" for k in sorted(set(a.scenario) | set(b.scenario))
              if a.scenario.get(k) != b.scenario.get(k)]
    return fields + (["tier"] if a.tier != b.tier else [])


def newest_per_key(entries: list[tuple[RunRecord, Path]]) -> dict[str, tuple[RunRecord, Path]]:
    """One record per key, the newest; raises :class:`MergeError` on conflicting configs."""
    chosen: dict[str, tuple[RunRecord, Path]] = {}
    for record, path in entries:
        if record.key not in chosen:
            chosen[record.key] = (record, path)
            continue
        kept, kept_path = chosen[record.key]
        differing = _differences(kept, record)
        if differing:
            raise MergeError(
                f"key {record.key}: different configurations in {kept_path} and {path} "
                f"(differing: {', '.join(differing)})"
            )
        if record.created_at > kept.created_at:
            chosen[record.key] = (record, path)
    return chosen


def merge(sources: list[Path], out: Path) -> MergeSummary:
    """Merge the records of ``sources`` (and those already in ``out``) into ``out``."""
    out = Path(out)
    files: list[Path] = []
    for source in [*sources, *([out] if (out / "records").is_dir() else [])]:
        files.extend(p for p in record_files(Path(source)) if p not in files)
    if not files:
        raise MergeError(f"no record files in {', '.join(str(s) for s in sources)}")
    _check_versions(files)
    entries = [(record, path) for path in files for record in read_record_file(path)]
    chosen = newest_per_key(entries)
    for record, path in chosen.values():
        if path != out / "records" / f"{record.key}.json":
            save_record(record, out)
    return MergeSummary(len(files), len(entries), len(chosen), build(out))

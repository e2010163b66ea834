"""Regenerate every leaderboard file of a folder from its records alone.

Layout of a leaderboard folder::

    records/<config_hash>-s<split>-t<train>.json   the source of truth, one per run
    leaderboard.md  leaderboard.csv  leaderboard.tex  leaderboard.html
    figures/<group>-heatmap.png  figures/<group>-<defense>-curves.png

Every file is written atomically, and pictures of groups that no longer exist are removed, so
the folder always matches its records.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench.leaderboard import figures as draw
from bench.leaderboard.latex import latex_document
from bench.leaderboard.markdown import markdown_page
from bench.leaderboard.spreadsheet import leaderboard_csv
from bench.leaderboard.table import build_groups
from bench.leaderboard.webpage import web_page
from bench.results import RunRecord, load_records, save_record, write_atomic

OUTPUTS = ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard.html")


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def build(directory: Path, skip_bad: bool = False) -> list[Path]:
    """Write tables and pictures for the records in ``directory/records``; returns the paths.
    With ``skip_bad``, unreadable or invalid record files are left out with a warning naming
    each; otherwise the first one raises."""
    directory = Path(directory)
    records = (load_records(directory / "records", skip_bad)
               if (directory / "records").is_dir() else [])
    if not records:
        raise FileNotFoundError(f"{directory}: no records under {directory / 'records'}")
    groups = build_groups(records)
    runs = len(records)
    revisions = sorted({r.environment.get("git_revision", "?") for r in records})
    newest = max(r.created for r in records)
    header = (f"{runs} run{'s' if runs != 1 else ''} in {len(groups)} group"
              f"{'s' if len(groups) != 1 else ''}; newest {newest[:19]}Z; "
              f"revisions {', '.join(revisions)}.")

    pictures: dict[str, dict[str, bytes]] = {}
    for group in groups:
        if not group.ranked:  # metric columns of several units: the tables say it all
            continue
        pngs = {f"figures/{group.slug}-heatmap.png": draw.heatmap(group)}
        for row in group.rows:
            pngs[f"figures/{group.slug}-{_safe(row.defense)}-curves.png"] = draw.curves(
                group, row.defense)
        pictures[group.slug] = pngs

    written = []
    for pngs in pictures.values():
        for name, png in pngs.items():
            write_atomic(directory / name, png)
            written.append(directory / name)
    links = {slug: list(pngs) for slug, pngs in pictures.items()}
    texts = {
        "leaderboard.md": markdown_page(groups, links, header),
        "leaderboard.csv": leaderboard_csv(groups),
        "leaderboard.tex": latex_document(groups, header),
        "leaderboard.html": web_page(groups, pictures, header),
    }
    for name, text in texts.items():
        write_atomic(directory / name, text)
        written.append(directory / name)
    _remove_stale(directory / "figures", set(written))
    return written


def _remove_stale(folder: Path, keep: set[Path]) -> None:
    for path in folder.glob("*.png"):
        if path not in keep:
            path.unlink()


def write_leaderboard(records: Iterable[RunRecord], directory: Path) -> list[Path]:
    """Save ``records`` under ``directory/records`` (replacing reruns of the same key) and
    regenerate the folder's leaderboard from all of its records."""
    for record in records:
        save_record(record, directory)
    return build(directory)

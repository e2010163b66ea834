"""``byzbench report``: regenerate and merge leaderboard folders.

    byzbench report build DIR              tables and pictures from DIR/records
    byzbench report merge DIR... --out DIR merge record folders, then build DIR
    byzbench report migrate DIR            rewrite older records in the current schema
    byzbench report references DIR --grid G committed per-cell reference values of grid G

bench.cli adds these through register(); python -m bench.leaderboard.cli runs them on their own.
Each command is bound as handler and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.results import RecordError


def _build(args: argparse.Namespace) -> int:
    from bench.leaderboard.build import build

    written = build(Path(args.dir), skip_bad=args.skip_bad)
    print(f"wrote {len(written)} files to {args.dir} (open {Path(args.dir) / 'leaderboard.html'})")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from bench.leaderboard.merge import merge

    summary = merge([Path(d) for d in args.dirs], Path(args.out))
    print(f"merged {summary.records} records from {summary.files} files into {summary.kept} "
          f"runs ({summary.replaced} older duplicates dropped); wrote {len(summary.written)} "
          f"files to {args.out}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from bench.results import SCHEMA_VERSION, read_record_file, record_files, save_record

    moved = 0
    for path in record_files(Path(args.dir)):
        old = json.loads(path.read_text())
        if isinstance(old, dict) and old.get("schema_version") == SCHEMA_VERSION:
            continue
        records = read_record_file(path)  # validates, migrating older versions
        for record in records:
            written = save_record(record, Path(args.dir))
            if written != path:
                path.unlink()
            moved += 1
    print(f"migrated {moved} record(s) in {args.dir} to schema version {SCHEMA_VERSION}")
    return 0


def _references(args: argparse.Namespace) -> int:
    import yaml

    from bench.grid import load_grid
    from bench.grids import GRIDS, grid_path
    from bench.measured import build_references
    from bench.results import load_records, write_atomic

    path = grid_path(args.grid)
    content = build_references(load_grid(path), load_records(Path(args.dir)), path.name)
    out = Path(args.out) if args.out else GRIDS / "references" / f"{path.stem}.yaml"
    write_atomic(out, yaml.safe_dump(content, sort_keys=False, width=100))
    print(f"wrote {len(content['cells'])} cell references of {path.name} to {out}")
    return 0


def _guarded(command):
    def run(args: argparse.Namespace) -> int:
        from bench.leaderboard.merge import MergeError

        try:
            return command(args)
        except (RecordError, MergeError, FileNotFoundError, NotADirectoryError,
                PermissionError, ValueError) as err:
            print(f"byzbench report {args.report_command}: error: {err}", file=sys.stderr)
            return 1

    return run


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``report`` command tree to a parent parser's sub-commands."""
    report = subparsers.add_parser("report", help="regenerate and merge leaderboards",
                                   description=__doc__.split("\n\n")[0])
    commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="regenerate tables and pictures from DIR/records")
    build.add_argument("dir", metavar="DIR", help="leaderboard folder with a records/ subfolder")
    build.add_argument("--skip-bad", action="store_true",
                       help="leave out unreadable or invalid record files with a warning naming "
                            "each (default: stop at the first one)")
    build.set_defaults(handler=_guarded(_build))
    migrate = commands.add_parser(
        "migrate", help="rewrite older records of DIR in the current schema (new file names)")
    migrate.add_argument("dir", metavar="DIR", help="leaderboard folder with a records/ subfolder")
    migrate.set_defaults(handler=_guarded(_migrate))
    refs = commands.add_parser(
        "references", help="committed per-cell reference values of a grid from DIR's records",
        description="Median and tolerance per cell (" + "max(3 MAD, 1.5 points, grid-seed "
                    "offset + 0.5)" + ") from a run of GRID with >= 5 training seeds.")
    refs.add_argument("dir", metavar="DIR", help="leaderboard or record folder of that run")
    refs.add_argument("--grid", required=True, help="shipped grid name (e.g. smoke-bite)")
    refs.add_argument("--out", default=None, metavar="FILE",
                      help="output file (default: bench/grids/references/GRID.yaml)")
    refs.set_defaults(handler=_guarded(_references))
    merge = commands.add_parser(
        "merge", help="merge record folders from several runs or machines, then build",
        description="Refuses mixed schema versions and different configurations under one key; "
                    "keeps the newest record of each key (by its 'created' time).")
    merge.add_argument("dirs", nargs="+", metavar="DIR",
                       help="leaderboard or record folders, or record JSON files")
    merge.add_argument("--out", required=True, metavar="DIR", help="folder to merge into")
    merge.set_defaults(handler=_guarded(_merge))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="byzbench")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

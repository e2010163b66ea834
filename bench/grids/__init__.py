"""The grids shipped with byzbench (package data): ``grid_path("smoke")`` finds one by name."""

from __future__ import annotations

from pathlib import Path

GRIDS = Path(__file__).resolve().parent




def orderings_files() -> list[Path]:
    """The shipped orderings files (``orderings*.yaml``): claims compared across a block of
    standard-tier runs, one file per block."""
    return sorted(GRIDS.glob("orderings*.yaml"))


def case_grids() -> list[Path]:
    """Every shipped grid whose cells are test cases (all but the gate's and the orderings
    files), in name order: a track adds a grid by adding a file here."""
    others = {GRIDS / "gate.yaml", *orderings_files()}
    return sorted(p for p in GRIDS.glob("*.yaml") if p not in others)


def grid_path(name: str) -> Path:
    """The shipped grid ``name`` (``smoke``, ``standard-mnist``, ... or ``smoke.yaml``)."""
    path = GRIDS / (name if name.endswith(".yaml") else f"{name}.yaml")
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in GRIDS.glob("*.yaml")))
        raise FileNotFoundError(f"no shipped grid {name!r}; shipped: {known}")
    return path

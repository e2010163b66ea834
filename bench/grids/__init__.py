"""The grids shipped with byzbench (package data): ``grid_path("smoke")`` finds one by name."""

from __future__ import annotations

from pathlib import Path

GRIDS = Path(__file__).resolve().parent


def grid_path(name: str) -> Path:
    """The shipped grid ``name`` (``smoke``, ``standard-mnist``, ... or ``smoke.yaml``)."""
    path = GRIDS / (name if name.endswith(".yaml") else f"{name}.yaml")
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in GRIDS.glob("*.yaml")))
        raise FileNotFoundError(f"no shipped grid {name!r}; shipped: {known}")
    return path

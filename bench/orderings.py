"""Seed 003's orderings as data: ``bench/grids/orderings.yaml`` loaded and validated.

The file names the grids whose runs the claims compare, one entry per claim kind under
``claims`` and the strict expected failures under ``xfail``.  Every key of every claim is
checked against the claim kind's schema, every defense label against the defenses of those
grids and every attack against the attack registry, so a typo fails at load with the file and
field named.  ``cases/test_orderings.py`` turns the claims into tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.grid import GridError, load_grid
from bench.registry import attacks

#: claim kind -> (required keys, optional keys) with the kind of value each key holds
SCHEMA: dict[str, dict[str, str]] = {
    "strongest-attack": {"defense": "defense", "attack": "attack", "others": "attacks",
                         "betas": "numbers", "margin": "number"},
    "damage-falls-with-beta": {"defense": "defense", "attack": "attack", "betas": "numbers",
                               "margin": "number"},
    "weak-flips": {"defenses": "defenses", "max_drop": "attack-numbers", "betas": "numbers"},
    "small-radius-fails": {"defense": "defense", "reference": "defense", "beta": "number",
                           "split": "text", "margin": "number"},
    "alternating-alie": {"defense": "defense", "beta": "number", "margin": "number"},
    "alie-consistency": {"defense": "defense", "beta": "number", "minimum": "number"},
    "rop-looks-aligned": {"defenses": "defenses", "betas": "numbers", "margin": "number"},
}
TOP_KEYS = {"description", "grids", "claims", "xfail"}


class OrderingsError(GridError):
    """A malformed orderings file; the message names the file and the field."""


@dataclass(frozen=True)
class Orderings:
    """The validated file: grid paths, claims by kind and expected failures by (claim, id)."""

    grids: tuple[Path, ...]
    claims: dict[str, dict[str, Any]]
    xfail: dict[tuple[str, str], str]


def _check_value(kind: str, value: Any, where: str, defenses: set[str]) -> None:
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def attack(name: Any) -> None:
        if name not in attacks:
            raise OrderingsError(f"{where}: unknown attack {name!r}")

    def defense(label: Any) -> None:
        if label not in defenses:
            raise OrderingsError(f"{where}: defense {label!r} is in none of the grids "
                                 f"(they have: {', '.join(sorted(defenses))})")

    if kind == "number" and not number(value):
        raise OrderingsError(f"{where}: expected a number, got {value!r}")
    if kind == "numbers" and not (isinstance(value, list) and value
                                  and all(number(v) for v in value)):
        raise OrderingsError(f"{where}: expected a list of numbers, got {value!r}")
    if kind == "text" and not isinstance(value, str):
        raise OrderingsError(f"{where}: expected text, got {value!r}")
    if kind in ("attacks", "defenses") and not (isinstance(value, list) and value):
        raise OrderingsError(f"{where}: expected a non-empty list, got {value!r}")
    if kind == "attack-numbers" and not (isinstance(value, dict) and value
                                         and all(number(v) for v in value.values())):
        raise OrderingsError(f"{where}: expected a mapping of attacks to numbers, got {value!r}")
    for item in {"attack": [value], "attacks": value, "attack-numbers": value}.get(kind, []):
        attack(item)
    for item in {"defense": [value], "defenses": value}.get(kind, []):
        defense(item)


def load_orderings(path: Path) -> Orderings:
    """Read and validate the orderings file at ``path``."""
    where = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise OrderingsError(f"{where}: cannot read: {err}") from None
    if not isinstance(raw, dict):
        raise OrderingsError(f"{where}: expected a mapping at the top level")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise OrderingsError(f"{where}: unknown key(s) {sorted(unknown)}")
    if not isinstance(raw.get("grids"), list) or not raw["grids"]:
        raise OrderingsError(f"{where}: grids must be a non-empty list of grid files")
    grids = tuple(Path(path).parent / str(g) for g in raw["grids"])
    defenses = {c.scenario.defense.label for g in grids for c in load_grid(g)}
    claims = raw.get("claims")
    if not isinstance(claims, dict) or not claims:
        raise OrderingsError(f"{where}: claims must be a mapping of claim kinds")
    for kind, claim in claims.items():
        at = f"{where}: claims.{kind}"
        if kind not in SCHEMA:
            raise OrderingsError(f"{at}: unknown claim kind; known: {', '.join(SCHEMA)}")
        if not isinstance(claim, dict):
            raise OrderingsError(f"{at}: expected a mapping")
        wrong = set(claim) ^ set(SCHEMA[kind])
        if wrong:
            raise OrderingsError(f"{at}: unknown or missing key(s) {sorted(wrong)}; a "
                                 f"{kind} claim has exactly {sorted(SCHEMA[kind])}")
        for key, value_kind in SCHEMA[kind].items():
            _check_value(value_kind, claim[key], f"{at}.{key}", defenses)
    xfail: dict[tuple[str, str], str] = {}
    for i, rule in enumerate(raw.get("xfail") or []):
        at = f"{where}: xfail[{i}]"
        if not isinstance(rule, dict) or set(rule) != {"claim", "id", "reason"}:
            raise OrderingsError(f"{at}: expected exactly claim, id and reason, got {rule!r}")
        if rule["claim"] not in claims:
            raise OrderingsError(f"{at}.claim: {rule['claim']!r} is not a claim of this file")
        xfail[(str(rule["claim"]), str(rule["id"]))] = str(rule["reason"])
    return Orderings(grids, claims, xfail)

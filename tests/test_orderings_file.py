"""The orderings file loader: the shipped file loads, and each kind of mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.grids import GRIDS
from bench.orderings import OrderingsError, load_orderings

SHIPPED = GRIDS / "orderings.yaml"


def test_shipped_orderings_load() -> None:
    spec = load_orderings(SHIPPED)
    assert "strongest-attack" in spec.claims and spec.grids and spec.xfail


def _edited(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["grids"] = [str(GRIDS / g) for g in raw["grids"]]
    change(raw)
    path = tmp_path / "orderings.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(claimz={}), r"unknown key\(s\) \['claimz'\]"),
    (lambda r: r["claims"].update(fastest={}), "claims.fastest: unknown claim kind"),
    (lambda r: r["claims"]["alternating-alie"].update(margn=1), r"\['margn', 'margin'\]|margn"),
    (lambda r: r["claims"]["strongest-attack"].update(attack="ropp"), "unknown attack 'ropp'"),
    (lambda r: r["claims"]["weak-flips"].update(defenses=["cc_tau2"]),
     "defense 'cc_tau2' is in none of the grids"),
    (lambda r: r["claims"]["alie-consistency"].update(minimum="high"), "expected a number"),
    (lambda r: r["xfail"].append({"claim": "nosuch", "id": "x", "reason": "y"}),
     r"xfail\[\d+\].claim: 'nosuch' is not a claim"),
], ids=[f"mistake{i}" for i in range(7)])
def test_mistakes_name_the_field(tmp_path: Path, change, message: str) -> None:
    path = _edited(tmp_path, change)
    with pytest.raises(OrderingsError, match=message) as err:
        load_orderings(path)
    assert str(path) in str(err.value)

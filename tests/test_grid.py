"""Grid files: expansion into cases, and clear errors that name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.gate import load_gate
from bench.grid import GridError, load_grid, load_grids
from bench.grids import case_grids, grid_path

GOOD = """
tier: smoke
seeds: [0, 1]
defaults: {n: 10, f: 2, batch_size: 8, epochs: 2}
settings:
  - {dataset: digits, model: mlp, split: iid}
vary: {beta: [0.0, 0.9]}
defenses: [mean, {name: tm, params: {b: 1}}]
attacks: [none, bitflip]
expect:
  floor: 0.5
  cells:
    - {defense: tm, attack: bitflip, floor: 0.25}
    - {defense: mean, attack: none, beta: 0.0, xfail: "measured: 41% at this budget"}
timing: {max_cost_over_mean: {default: 40, tm: 80}}
"""


def write(tmp_path: Path, text: str, name: str = "grid.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_grid_expands_to_the_cross_product_with_overrides(tmp_path: Path) -> None:
    cases = load_grid(write(tmp_path, GOOD))
    assert len(cases) == 2 * 2 * 2
    ids = {c.id for c in cases}
    assert "fedsgd-digits-mlp-iid-tm_b1-bitflip-n10f2-b0.9" in ids
    floors = {c.id: c.floor for c in cases}
    assert floors["fedsgd-digits-mlp-iid-tm_b1-bitflip-n10f2-b0.0"] == 0.25
    assert floors["fedsgd-digits-mlp-iid-mean-bitflip-n10f2-b0.0"] == 0.5
    assert all(c.seeds == (0, 1) for c in cases)
    assert {c.scenario.defense.aggregator.name: c.max_cost_over_mean for c in cases} == {
        "mean": 40.0, "tm": 80.0}
    expected_failures = {c.id: c.xfail for c in cases if c.xfail is not None}
    assert expected_failures == {
        "fedsgd-digits-mlp-iid-mean-none-n10f2-b0.0": "measured: 41% at this budget"}


def test_other_tiers_append_their_name_to_the_id(tmp_path: Path) -> None:
    cases = load_grid(write(tmp_path, GOOD.replace("tier: smoke", "tier: standard")))
    assert all(c.id.endswith("-standard") for c in cases)


def test_the_protocol_is_read_from_the_grid(tmp_path: Path) -> None:
    text = GOOD.replace("tier: smoke", "tier: smoke\nprotocol: fedavg").replace(
        "vary: {beta: [0.0, 0.9]}", "vary: {local_steps: [1, 3]}").replace(
        "beta: 0.0, xfail", "local_steps: 1, xfail")
    cases = load_grid(write(tmp_path, text))
    assert {c.scenario.protocol for c in cases} == {"fedavg"}
    assert "fedavg-digits-mlp-iid-tm_b1-bitflip-n10f2-k3" in {c.id for c in cases}


BAD = [
    ("tier: smoke\nsettings: [\n", "not valid YAML"),
    (GOOD.replace("vary:", "varz:"), r"unknown key\(s\) \['varz'\]"),
    (GOOD.replace("tier: smoke", "tier: smoke\nprotocol: nosuch"),
     "protocol: unknown protocol 'nosuch'"),
    (GOOD.replace("n: 10,", "n: 10, engine: nosuch,"), "engine must be one of"),
    (GOOD.replace("attacks: [none, bitflip]", "attacks: [none, bitflop]"),
     "attack: unknown attack 'bitflop'"),
    (GOOD.replace("{name: tm, params: {b: 1}}", "{name: tm, params: {q: 1}}"),
     r"defense: aggregator 'tm' got unknown parameter\(s\) q"),
    (GOOD.replace("f: 2,", "f: 12,"), "f must be < n"),
    (GOOD.replace("n: 10, f: 2", "n: 10, f: 5"), "is not a minority"),
    (GOOD.replace("n: 10,", "n: 10.5,"), "n must be an integer, got 10.5"),
    (GOOD.replace("seeds: [0, 1]", "seeds: [abc]"), r"seeds\[0\] must be an integer"),
    (GOOD.replace("epochs: 2}", "epochs: 2, lr_milestones: 5}"), "lr_milestones must be a list"),
    (GOOD.replace("epochs: 2}", "epochs: 0}"), "epochs must be > 0, got 0"),
    (GOOD.replace("epochs: 2}", "epochs: 2, lr: -0.1}"), "lr must be > 0, got -0.1"),
    (GOOD.replace("model: mlp,", "model: {name: mlp, params: {hidden: 7}},"), "model 'mlp'"),
    (GOOD.replace("split: iid}", "split: {name: dirichlet, params: {alpha: -1}}}"),
     "dirichlet: alpha must be > 0"),
    (GOOD.replace("attacks: [none, bitflip]", "attacks: [{name: gaussian, params: {std: -1}}]"),
     "gaussian: std must be >= 0"),
    (GOOD.replace("batch_size: 8", "batch_size: 100000"), "fewer than one batch"),
    (GOOD.replace("n: 10, f: 2", "n: 200, f: 2"), r"\(7.2 each\), fewer than one batch"),
    (GOOD.replace("  floor: 0.5\n", "  floor: 95\n"), "write 0.95 for 95%"),
    (GOOD.replace("  floor: 0.5\n", ""), "expect.floor is required"),
    (GOOD.replace("tm: 80}", "tmm: 80}"), "max_cost_over_mean.tmm: unknown aggregator"),
    (GOOD.replace("tm: 80}", "tm: -1}"), "must be a number > 0"),
    (GOOD.replace("defenses: [mean, {name: tm, params: {b: 1}}]", "defenses: []"),
     "defenses must be a non-empty list"),
    (GOOD.replace("batch_size: 8", "batch_sise: 8"), "batch_sise"),
    (GOOD.replace("- {dataset: digits, model: mlp, split: iid}", "- {dataset: digits}"),
     r"settings\[0\]: needs dataset and model"),
    (GOOD.replace("attack: bitflip, floor: 0.25}", "attack: bitflip, bounds: {nosuch: [0, 1]}}"),
     "has no metric 'nosuch'"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_malformed_grid_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(GridError, match=message) as err:
        load_grid(path)
    assert str(path) in str(err.value)


def test_a_folder_or_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GridError, match="is a folder"):
        load_grid(tmp_path)
    with pytest.raises(GridError, match="no such grid file"):
        load_grid(tmp_path / "absent.yaml")


def test_ids_must_be_unique_across_grids(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD.replace("epochs: 2", "epochs: 3"), "b.yaml")
    with pytest.raises(GridError, match="also comes from"):
        load_grids([first, second])


def test_shipped_grids_load_from_the_package() -> None:
    grids = case_grids()
    assert not {"gate.yaml", "orderings.yaml", "orderings-cnn.yaml"} & {p.name for p in grids}
    assert len(grids) >= 6
    assert load_grids(grids)
    gate = load_gate(grid_path("gate"))
    assert gate.cases(gate.reference) and 0 < gate.floor < 1
    with pytest.raises(FileNotFoundError, match="shipped: "):
        grid_path("nosuch")

"""Sensitivity of the committed references: deliberately broken rules must fail cells.

A selection of the bite setting's cells (``bench/grids/smoke-bite.yaml``, held to
``references/smoke-bite.yaml``) runs against three mutants -- centered clipping with its radius
scaled 10x, a trimmed mean trimming one row too few, and Krum selecting the farthest row instead
of the closest -- and against the unmodified rules.  The unmodified rules must pass every
selected cell; each mutant must fail at least ``MIN_FAILED`` of them.  Measured when the
references were generated (9 cells each): CC radius x10 failed 6, the trimmed mean trimming one
too few 5, farthest-row Krum 8; the unmodified rules passed all 9.  A change that weakens the
references (wider tolerances) or the setting (attacks that stop biting) shows up here.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.aggregators.clipping import CenteredClipping
from bench.aggregators.distances import pairwise_sq_distances
from bench.aggregators.krum import Krum, krum_neighbours, krum_scores
from bench.aggregators.trimmed import TrimmedMean
from bench.cases import verdict
from bench.grid import Case, load_grid
from bench.grids import grid_path
from bench.run import Seeds, run

ATTACKS = ("none", "ipm", "ipm-opt", "alie-opt", "signflip", "rop", "bitflip", "nan", "mimic")
MIN_FAILED = 4


class FarthestKrum(Krum):
    """Mutant: the update of *highest* Krum score."""

    def aggregate(self, updates: Tensor) -> Tensor:
        k = krum_neighbours(updates.shape[0], self.f, self.name)
        scores = krum_scores(pairwise_sq_distances(updates).sq, k)
        finite = torch.isfinite(scores)
        return updates[int(torch.where(finite, scores, -torch.inf).argmax())]


def wide_clipping(f: int, tau: float) -> Aggregator:
    """Mutant: centered clipping with its radius scaled 10x."""
    return CenteredClipping(f=f, tau=10 * tau)


def shy_trimming(f: int) -> Aggregator:
    """Mutant: a trimmed mean trimming ``f - 1`` rows per side instead of ``f``."""
    return TrimmedMean(f=f, b=f - 1)


MUTANTS = {
    "cc_tau0.1": ("cc-radius-x10", lambda f: wide_clipping(f, 0.1)),
    "tm": ("tm-trims-one-too-few", shy_trimming),
    "krum": ("krum-farthest", lambda f: FarthestKrum(f=f)),
}


@functools.cache
def selected() -> dict[str, list[Case]]:
    by_defense: dict[str, list[Case]] = {label: [] for label in MUTANTS}
    for case in load_grid(grid_path("smoke-bite")):
        label = case.scenario.defense.label
        if label in by_defense and case.scenario.attack.label in ATTACKS:
            by_defense[label].append(case)
    return by_defense


def failed_cells(cases: list[Case], rule=None) -> list[str]:
    """Ids of ``cases`` whose verdict fails, with ``rule(f)`` in place of the defense."""
    failed = []
    for case in cases:
        f = case.scenario.settings.f
        live = rule(f) if rule is not None else None
        records = [run(case.scenario, Seeds(case.split_seed, s), aggregator=live)
                   for s in case.seeds]
        if not verdict(case, records).passed:
            failed.append(case.id)
    return failed


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


PARAMS = [pytest.param(label, id=label, marks=pytest.mark.uses(label.split("_")[0]))
          for label in MUTANTS]


@pytest.mark.parametrize("label", PARAMS)
def test_unmodified_rule_passes_every_selected_cell(label: str) -> None:
    cases = selected()[label]
    assert len(cases) == len(ATTACKS)
    assert failed_cells(cases) == []


@pytest.mark.parametrize("label", PARAMS)
def test_mutant_fails_cells(label: str) -> None:
    name, mutant = MUTANTS[label]
    failed = failed_cells(selected()[label], mutant)
    print(f"{name}: {len(failed)} of {len(ATTACKS)} cells failed: {failed}")
    assert len(failed) >= MIN_FAILED, f"{name} failed only {failed}"

"""Every registered attack: output contract, and that it moves its targeted aggregate.

The second check catches silent no-ops (Blades' ALIE sent honest updates for years): on a fixed
update matrix, each update attack must shift the aggregate of the rule it targets, away from
what a no-op adversary (``f`` copies of the honest average) would get, by a measured margin.
Data attacks act through training and are checked on real runs in ``test_efficacy.py``.
"""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.clipping import CenteredClipping
from bench.aggregators.mean import Mean
from bench.aggregators.trimmed import TrimmedMean
from bench.attacks.base import AttackContext, probe, repeat_rows
from bench.attacks.fang import krum_scores
from bench.registry import attacks

N, F, D = 25, 5, 64


def fixed_round(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Honest updates ``true + N(0, I)`` (20 x 64), a previous aggregate near ``true``, a mask."""
    g = torch.Generator().manual_seed(seed)
    true = 0.3 * torch.randn(D, generator=g)
    honest = true + torch.randn(N - F, D, generator=g)
    previous = true + 0.1 * torch.randn(D, generator=g)
    mask = torch.zeros(D, dtype=torch.bool)
    mask[:8] = True
    return honest, previous, mask


def full_context(aggregator=None, seed: int = 0) -> AttackContext:
    honest, previous, mask = fixed_round(seed)
    return AttackContext(
        honest=honest, n=N, f=F, round=2, previous_aggregate=previous,
        byzantine=honest[:F] + 0.5, aggregator=aggregator or probe(Mean()),
        param_mask=mask, generator=torch.Generator().manual_seed(seed),
    )


def named(names: list[str]) -> list:
    return [pytest.param(n, id=n, marks=pytest.mark.uses(n)) for n in names]


@pytest.mark.parametrize("name", named(attacks.names()))
def test_forges_f_rows_of_dimension_d(name: str) -> None:
    ctx = full_context()
    forged = attacks.make(name)(ctx)
    assert forged.shape == (F, D)
    assert forged.dtype == ctx.honest.dtype and forged.device == ctx.honest.device
    # f = 0: nothing to forge, whatever the attack.
    empty = AttackContext(honest=ctx.honest, n=N - F, f=0, round=1)
    assert attacks.make(name)(empty).shape == (0, D)


@pytest.mark.parametrize("name", named(attacks.names()))
def test_has_documented_formula_and_source(name: str) -> None:
    doc = attacks.entry(name).factory.__doc__ or ""
    assert len(doc.split()) >= 20, f"{name}: docstring too short to state formula and source"


def select_smallest_score(updates: torch.Tensor) -> torch.Tensor:
    """Krum (Blanchard et al. 2017): the update with the smallest score; no Krum is registered
    on this branch, and the id must not name one."""
    return updates[krum_scores(updates, F).argmin()]


def centered_clipping(previous: torch.Tensor) -> CenteredClipping:
    rule = CenteredClipping(f=F, tau=1.0)
    rule.reference = previous.clone()
    return rule


# (attack, params, targeted rule, minimal shift).  Shift = ||AGG(honest + forged) -
# AGG(honest + f copies of the honest average)||.  Thresholds are about half the smallest shift
# measured on this construction over seeds 0-4 (measured range in the comment); the rules are
# the ones each attack was designed against (ALIE, Fang: trimmed mean; ROP: CC with the previous
# aggregate as reference; Fang's selection target: Krum; the rest: the plain mean).
SHIFTS = [
    ("alie", {}, "tm", 0.35),  # 0.665-0.698
    ("alie-alt", {}, "tm", 0.35),  # as alie (round 2 is even: unflipped)
    ("alie-opt", {}, "tm", 1.6),  # 3.26-3.40
    ("ipm", {}, "mean", 0.3),  # 0.61-0.81
    ("ipm-opt", {}, "tm", 1.6),  # 3.20-3.34
    ("rop", {}, "cc", 0.13),  # 0.263-0.301 (theory: about (f/n) * tau = 0.2 and more)
    ("rop-s", {}, "cc", 0.13),  # 0.253-0.302
    ("signflip", {}, "mean", 0.5),  # 1.02-1.35
    ("gaussian", {}, "mean", 0.3),  # 0.64-1.03
    ("minmax", {}, "mean", 0.85),  # 1.76-1.95
    ("minsum", {}, "mean", 0.85),  # 1.75-1.82
    ("fang", {}, "tm", 1.6),  # 3.22-3.37
    ("fang", {"target": "selection"}, "select", 4.0),  # 7.96-8.92 (Krum's selection)
    ("mimic", {}, "mean", 0.85),  # 1.70-1.81
    # Partial-knowledge variants read ctx.byzantine (= honest[:F] + 0.5 here, so part of the
    # shift is that offset); measured over seeds 0-4:
    ("alie-own", {}, "tm", 0.6),  # 1.19-1.37
    ("ipm-own", {}, "mean", 0.33),  # 0.66-0.83
    ("signflip-own", {}, "mean", 0.74),  # 1.49-1.69
    ("minmax-own", {}, "mean", 0.57),  # 1.14-1.35
    ("minsum-own", {}, "mean", 0.49),  # 0.98-1.09
    ("fang-own", {}, "tm", 1.0),  # 2.08-2.40
    ("rop-own", {}, "cc", 0.13),  # 0.257-0.303
]
SHIFT_CASES = [
    pytest.param(
        a, p, rule, floor,
        id=f"{a}-{'-'.join(p.values()) or 'default'}-vs-{rule}",
        marks=pytest.mark.uses(a, *([rule] if rule != "select" else [])),
    )
    for a, p, rule, floor in SHIFTS
]


@pytest.mark.parametrize(("name", "params", "rule", "floor"), SHIFT_CASES)
def test_moves_its_targeted_aggregate(name: str, params: dict, rule: str, floor: float) -> None:
    assert shift(name, params, rule) > floor


def shift(name: str, params: dict, rule: str) -> float:
    honest, previous, _ = fixed_round()
    rules = {
        "mean": Mean, "tm": lambda: TrimmedMean(f=F), "select": lambda: select_smallest_score,
        "cc": lambda: centered_clipping(previous),
    }
    forged = attacks.make(name, **params)(full_context(probe(rules[rule]())))
    with_attack = rules[rule]()(torch.cat([honest, forged]))
    no_op = rules[rule]()(torch.cat([honest, repeat_rows(honest.mean(0), F)]))
    return float((with_attack - no_op).norm())


@pytest.mark.parametrize(
    ("tuned", "fixed"),
    [pytest.param(t, b, id=t, marks=pytest.mark.uses(t, "tm")) for t, b in
     [("alie-opt", "alie"), ("ipm-opt", "ipm")]],
)
def test_tuned_variant_beats_fixed_one_under_tm(tuned: str, fixed: str) -> None:
    # Measured on seed 0: alie 0.69 -> alie-opt 3.38; ipm 1.0 -> ipm-opt 3.31.
    assert shift(tuned, {}, "tm") > 2.0 * shift(fixed, {}, "tm")


@pytest.mark.parametrize(
    "name", [pytest.param(n, id=n, marks=pytest.mark.uses(n, "mean")) for n in ("nan", "inf")]
)
def test_non_finite_rows_break_the_plain_mean(name: str) -> None:
    honest, _, _ = fixed_round()
    forged = attacks.make(name)(full_context())
    assert not bool(torch.isfinite(Mean()(torch.cat([honest, forged]))).any())

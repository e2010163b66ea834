"""Seed 001's claims on the standard tier's MNIST 1-7 runs (``-m standard``; grid mtp-standard).

- Table 4: improved label-flip targets need strictly fewer poisons than original ones;
- Table 2: at the same budget (KKT given Algorithm 1's n_p), Algorithm 1's accuracy is at most
  KKT's for LR and within 2 points of it for SVM;
- §4 (k copies): two copies per iteration need about half the retrains (at most 0.6 of them)
  with final accuracy within 1 point.

Runs are shared with the grid's cases through the session's case runner.  A claim that does not
hold at the budget affordable on one CPU core is a strict expected failure whose reason is the
measured value (``MEASURED``).
"""

from __future__ import annotations

import pytest

from bench.grid import Case, load_grid
from bench.grids import GRIDS
from pytest_byzbench.cases import case_runner, claim_param, skip_unless_runnable

CASES = load_grid(GRIDS / "mtp-standard.yaml")
ONE_COPY = "mtp_certifytarget_epsilon0.1"
TWO_COPIES = "mtp_certifynever_copies2_epsilon0.1"
KKT_AT_NP = "kkt_closeness0.1_share1"
GOALS = (0.05, 0.1, 0.15)
# Claim id -> measured value at the CPU budget where the claim fails (strict xfail reasons).
MEASURED: dict[str, str] = {
    # Measured on one CPU core, seed 0, cap 606 poisons (pytest -m standard -k "mnist17 and
    # logreg and (mtp or kkt)" cases/, 12 min).
    "retrain-mnist17-logreg-koh_goal0.05-improved-fewer-poisons":
        "LR 5 %: the improved target needs 224 poisons, the original 211 (epsilon = 0.1)",
    "retrain-mnist17-logreg-koh_goal0.15-mtp-vs-kkt":
        "LR 15 %: at the cap n_p = 606 (Algorithm 1 not yet epsilon-close, D = 0.156) Algorithm "
        "1 leaves 85.68 % accuracy, KKT 84.53 %",
    "retrain-mnist17-logreg-koh_goal0.05-two-copies":
        "two copies: 304 refits and 606 poisons (the cap) without reaching epsilon = 0.1 (D "
        "stalls at 0.152), vs 212 refits and 211 poisons with one copy (accuracy 93.07 vs "
        "93.30 %)",
    "retrain-mnist17-logreg-koh_goal0.1-two-copies":
        "two copies: 304 refits (the cap, D = 0.153) vs 472 with one copy: 0.64 of them; "
        "accuracy 88.45 vs 88.91 %",
    # SVM, same run (-k "mnist17 and svm ...", 9 min); uncapped values from
    # benchmarks/mtp_mnist.py (budget 1,200).
    "retrain-mnist17-svm-koh_goal0.05-improved-fewer-poisons":
        "SVM 5 %: the improved target is not epsilon-close at the cap (606 poisons, D = 0.336; "
        "0.258 after 1,200), the original is at 485",
    "retrain-mnist17-svm-koh_goal0.1-improved-fewer-poisons":
        "SVM 10 %: the improved target is not epsilon-close at the cap (606, D = 0.184; close "
        "at 1,162), the original is at 549",
    "retrain-mnist17-svm-koh_goal0.15-improved-fewer-poisons":
        "SVM 15 %: neither target is epsilon-close at the cap 606 (D = 0.797 original, 0.385 "
        "improved)",
    "retrain-mnist17-svm-koh_goal0.05-two-copies":
        "two copies: 304 refits (the cap, D = 0.601) vs 486 with one copy: 0.63 of them; "
        "accuracy 93.07 % both",
}


def case(model: str, goal: float, attack: str, improved: bool = False) -> Case:
    for c in CASES:
        s = c.scenario
        if (s.model.name == model and s.attack.label == attack
                and s.settings.target.params == ({"goal": goal, "improved": True} if improved
                                                 else {"goal": goal})):
            return c
    raise KeyError(f"mtp-standard has no {model} goal {goal} {attack} improved={improved}")


def param(claim: str, model: str, goal: float, *attacks: str):
    test_id = f"retrain-mnist17-{model}-koh_goal{goal:g}-{claim}"
    return claim_param(test_id, ("retrain", "mnist17", model, "koh", *attacks), model, goal,
                       measured=MEASURED.get(test_id))


def median(request: pytest.FixtureRequest, c: Case, metric: str) -> float:
    skip_unless_runnable(c, "cpu")
    return case_runner(request.config, "cpu").median(c, None, metric)


@pytest.mark.parametrize("model, goal", [param("improved-fewer-poisons", m, g, "mtp")
                                         for m in ("svm", "logreg") for g in GOALS])
def test_improved_targets_need_fewer_poisons(request, model: str, goal: float) -> None:
    original = median(request, case(model, goal, ONE_COPY), "poisons")
    improved = median(request, case(model, goal, ONE_COPY, improved=True), "poisons")
    assert improved < original, f"improved target n_p {improved:.0f} >= original {original:.0f}"


@pytest.mark.parametrize("model, goal", [param("mtp-vs-kkt", m, g, "mtp", "kkt")
                                         for m in ("svm", "logreg") for g in GOALS])
def test_mtp_no_worse_than_kkt_at_its_budget(request, model: str, goal: float) -> None:
    ours = median(request, case(model, goal, ONE_COPY), "poisoned_accuracy")
    kkt = median(request, case(model, goal, KKT_AT_NP), "poisoned_accuracy")
    if model == "logreg":
        assert ours <= kkt, f"LR: Algorithm 1 {100 * ours:.2f}% > KKT {100 * kkt:.2f}%"
    else:
        assert abs(ours - kkt) <= 0.02, (f"SVM: Algorithm 1 {100 * ours:.2f}% vs KKT "
                                         f"{100 * kkt:.2f}%")


@pytest.mark.parametrize("model, goal", [param("two-copies", m, g, "mtp")
                                         for m in ("svm", "logreg") for g in GOALS])
def test_two_copies_halve_the_refits(request, model: str, goal: float) -> None:
    one = case(model, goal, ONE_COPY)
    two = case(model, goal, TWO_COPIES)
    refits = median(request, two, "attack_retrains") / median(request, one, "attack_retrains")
    gap = abs(median(request, two, "poisoned_accuracy") - median(request, one, "poisoned_accuracy"))
    assert refits <= 0.6, f"two copies used {refits:.2f} of the refits"
    assert gap <= 0.01, f"two copies moved the final score by {100 * gap:.2f} points"

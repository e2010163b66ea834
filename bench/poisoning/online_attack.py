"""Seed 001's Algorithm 1 (model-targeted poisoning, online follow-the-leader).

    D_p = {}
    while no stopping rule holds:
        theta_t = argmin_theta F(theta; D_c u D_p)                      (eq. (1): retrain)
        (x*, y*) = argmax_{x, y} l(theta_t; x, y) - l(theta_p; x, y)     (line 4)
        D_p = D_p u {k copies of (x*, y*)}

Stopping rules (any that is set): theta_t is epsilon-close (max loss difference <= epsilon, the
paper's experiments), a budget of poisons, or an accuracy goal on an evaluation set.  Line 4 is
exact for the hinge loss (LPs) and projected Adam with restarts for the logistic loss (see
:mod:`bench.poisoning.loss_difference`).  Every iteration logs the max loss difference, its best
value so far, ||theta_t - theta_p||_2, accuracy, the Theorem 2 value z(theta_t) (exact maximiser
only) and its seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bench.poisoning.convex import ConvexVictim, HingeVictim, LogisticVictim, Params
from bench.poisoning.loss_difference import (
    MaxPoint,
    check_box,
    hinge_max_difference,
    logistic_max_difference,
)
from bench.poisoning.lower_bound import certified_count, z_value


@dataclass(frozen=True)
class Iteration:
    """One pass of the loop: theta_t on D_c u D_p with ``poisons`` points so far."""

    poisons: int
    max_difference: float
    best_difference: float
    distance: float
    accuracy: float | None
    z: float | None
    seconds: float


@dataclass
class AttackResult:
    """Poisons (distinct points with copy counts), the last model and the per-iteration log."""

    poison_X: np.ndarray
    poison_y: np.ndarray
    copies: np.ndarray
    params: Params
    stopped: str
    log: list[Iteration] = field(default_factory=list)

    @property
    def poisons(self) -> int:
        return int(self.copies.sum())

    @property
    def retrains(self) -> int:
        return len(self.log)

    @property
    def lower_bound(self) -> int | None:
        """ceil(max_t z(theta_t)) (Theorem 2); None if line 4 was not solved exactly."""
        zs = [it.z for it in self.log]
        return None if all(z is None for z in zs) else certified_count(zs)

    def lower_bound_curve(self) -> list[float]:
        """The Theorem 2 bound certified by the iterates so far, after each iteration."""
        best: float | None = None
        out = []
        for it in self.log:
            if it.z is not None and (best is None or it.z > best):
                best = it.z
            out.append(float(certified_count([best])))
        return out

    def curves(self) -> dict[str, list[float]]:
        keys = ("max_difference", "best_difference", "distance", "accuracy", "z", "seconds")
        return {k: [float("nan") if getattr(i, k) is None else float(getattr(i, k))
                    for i in self.log] for k in keys}


def maximizer_for(victim: ConvexVictim, restarts: int = 10, seed: int = 0):
    """Line-4 solver for the victim's loss: exact LPs (hinge) or Adam restarts (logistic)."""
    if isinstance(victim, HingeVictim):
        return hinge_max_difference
    if isinstance(victim, LogisticVictim):
        return lambda t, p, lo, hi: logistic_max_difference(t, p, lo, hi, restarts=restarts,
                                                            seed=seed)
    raise ValueError(f"Algorithm 1 needs a binary hinge or logistic victim, got {victim.name!r}")


def model_targeted_poisoning(victim: ConvexVictim, X: np.ndarray, y: np.ndarray,
                             target: Params, *, lo: float, hi: float,
                             epsilon: float | None = None, budget: int | None = None,
                             accuracy_goal: float | None = None,
                             eval_X: np.ndarray | None = None, eval_y: np.ndarray | None = None,
                             copies: int = 1, max_iterations: int = 100_000,
                             restarts: int = 10, seed: int = 0) -> AttackResult:
    """Run Algorithm 1 until a stopping rule holds (or ``max_iterations``: stopped='cap')."""
    check_box(lo, hi)
    if epsilon is None and budget is None and accuracy_goal is None:
        raise ValueError("set at least one stopping rule: epsilon, budget or accuracy_goal")
    if epsilon is not None and not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if budget is not None and int(budget) < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if int(copies) < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    if accuracy_goal is not None and (eval_X is None or not 0 <= accuracy_goal <= 1):
        raise ValueError("accuracy_goal needs eval_X/eval_y and a value in [0, 1]")
    maximize = maximizer_for(victim, restarts, seed)
    px: list[np.ndarray] = []
    py: list[float] = []
    counts: list[int] = []
    log: list[Iteration] = []
    theta: Params | None = None
    best = np.inf
    stopped = "cap"
    for _ in range(max_iterations):
        start = time.perf_counter()
        theta = victim.fit(X, y, extra_X=np.array(px).reshape(-1, X.shape[1]),
                           extra_y=np.array(py), extra_weights=np.array(counts, float),
                           init=theta)
        point: MaxPoint = maximize(theta, target, lo, hi)
        best = min(best, point.value)
        acc = None if eval_X is None else victim.accuracy(theta, eval_X, eval_y)
        z = z_value(victim, theta, target, X, y, point.value) if point.exact else None
        log.append(Iteration(int(sum(counts)), point.value, best, theta.distance(target), acc,
                             z, time.perf_counter() - start))
        if epsilon is not None and point.value <= epsilon:
            stopped = "epsilon"
            break
        if accuracy_goal is not None and acc is not None and acc <= accuracy_goal:
            stopped = "accuracy"
            break
        if budget is not None and sum(counts) >= budget:
            stopped = "budget"
            break
        add = int(copies) if budget is None else min(int(copies), int(budget) - sum(counts))
        px.append(point.x)
        py.append(point.y)
        counts.append(add)
    assert theta is not None
    return AttackResult(np.array(px).reshape(-1, X.shape[1]), np.array(py),
                        np.array(counts, dtype=np.int64), theta, stopped, log)

"""Line 4 of seed 001's Algorithm 1: the point of maximum loss difference over X x Y.

    D(theta, theta_p) = max_{x in [lo, hi]^d, y in {-1, +1}} l(theta; x, y) - l(theta_p; x, y)

(seed 001 Definition 1, the loss-based distance).  Scores are linear in x: s(x) = w.x + b.

- Hinge, exact: with u = 1 - y s(x), max(0, u_t) - max(0, u_p) is the larger of
  ``u_t - max(0, u_p)`` and ``0 - max(0, u_p)``; each is concave piecewise linear in x, so each
  is one linear program (epigraph variable t >= 0, t >= u_p).  Two LPs per label, four in all,
  solved by scipy's HiGHS (``scipy.optimize.linprog``); the answer is the largest optimum.
- Logistic (not concave): projected Adam from random starts in the box (seed 001 footnote 3);
  a lower estimate of D, so no certified lower bound is derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from bench.poisoning.convex import Params


@dataclass(frozen=True)
class MaxPoint:
    """The maximiser (x, y) and the value D it attains; ``exact`` when globally optimal."""

    x: np.ndarray
    y: float
    value: float
    exact: bool


def check_box(lo: float, hi: float) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"infeasible feature box [{lo}, {hi}]: need finite lo < hi")


def hinge_max_difference(theta: Params, target: Params, lo: float, hi: float) -> MaxPoint:
    """Exact D for the hinge loss by four LPs over [lo, hi]^d (variables x, then t)."""
    check_box(lo, hi)
    d = len(theta.w)
    best: MaxPoint | None = None
    bounds = [(lo, hi)] * d + [(0.0, None)]
    for y in (1.0, -1.0):
        # u_p(x) = 1 - y (w_p.x + b_p) <= t   <=>   -y w_p.x - t <= y b_p - 1
        a_ub = np.concatenate([-y * target.w, [-1.0]])[None, :]
        b_ub = np.array([y * float(target.b) - 1.0])
        for with_theta in (True, False):
            # maximise [u_t(x) if with_theta else 0] - t; linprog minimises the negative
            cost = np.concatenate([y * theta.w if with_theta else np.zeros(d), [1.0]])
            res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            if res.status != 0:
                raise RuntimeError(f"loss-difference LP failed: {res.message}")
            x = res.x[:d]
            value = _hinge(theta, x, y) - _hinge(target, x, y)
            if best is None or value > best.value:
                best = MaxPoint(x=x, y=y, value=value, exact=True)
    assert best is not None
    return best


def _hinge(p: Params, x: np.ndarray, y: float) -> float:
    return max(0.0, 1.0 - y * (float(p.w @ x) + float(p.b)))


def _logistic_diff(theta: Params, target: Params, X: np.ndarray,
                   y: float) -> tuple[np.ndarray, np.ndarray]:
    """Value and x-gradient of log(1+e^{-y s_t}) - log(1+e^{-y s_p}) for rows of X."""
    st, sp = X @ theta.w + theta.b, X @ target.w + target.b
    value = np.logaddexp(0, -y * st) - np.logaddexp(0, -y * sp)
    gt = -y / (1 + np.exp(np.clip(y * st, -700, 700)))
    gp = -y / (1 + np.exp(np.clip(y * sp, -700, 700)))
    return value, gt[:, None] * theta.w[None, :] - gp[:, None] * target.w[None, :]


def logistic_max_difference(theta: Params, target: Params, lo: float, hi: float, *,
                            restarts: int = 10, steps: int = 300, lr: float = 0.05,
                            seed: int = 0) -> MaxPoint:
    """Approximate D for the logistic loss: projected Adam ascent from ``restarts`` starts."""
    check_box(lo, hi)
    if restarts < 1 or steps < 1 or not lr > 0:
        raise ValueError(f"restarts, steps must be >= 1 and lr > 0: {restarts}, {steps}, {lr}")
    rng = np.random.default_rng(seed)
    d = len(theta.w)
    step = lr * (hi - lo)
    best: MaxPoint | None = None
    for y in (1.0, -1.0):
        X = rng.uniform(lo, hi, size=(restarts, d))
        m, v = np.zeros_like(X), np.zeros_like(X)
        for t in range(1, steps + 1):
            _, g = _logistic_diff(theta, target, X, y)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            X = np.clip(X + step * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8),
                        lo, hi)
        values, _ = _logistic_diff(theta, target, X, y)
        i = int(np.argmax(values))
        if best is None or values[i] > best.value:
            best = MaxPoint(x=X[i].copy(), y=y, value=float(values[i]), exact=False)
    assert best is not None
    return best

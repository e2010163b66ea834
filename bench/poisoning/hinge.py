"""Exact solver and optimality certificate for the L2-regularised hinge loss (linear SVM).

Objective (seed 001 eq. (1), weights c_i = v_i / sum v):

    F(w, b) = sum_i c_i max(0, 1 - m_i) + C_R/2 ||w||^2,   m_i = y_i (w.x_i + b).

Optimality (subgradient form): 0 is in dF, i.e. there are alpha_i with alpha_i = c_i where
m_i < 1, alpha_i = 0 where m_i > 1, alpha_i in [0, c_i] where m_i = 1, and

    C_R w = sum_i alpha_i y_i x_i,      sum_i alpha_i y_i = 0.

:func:`solve` finds such a point exactly: a quadratically smoothed hinge (L-BFGS) gives the
active sets, then the KKT linear system is solved for the margin set M and the sets are
corrected until consistent (a primal active-set method).  :func:`subgradient_residual` is the
solver-independent certificate: the distance from 0 to dF at (w, b), computed by bounded least
squares over the margin points' alpha; the victim's fit requires it to be <= tol.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear, minimize

MARGIN_TOL = 1e-9  # |m - 1| below this counts as "on the margin" in the certificate


def subgradient_residual(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
                         w: np.ndarray, b: float, eta: float = MARGIN_TOL) -> float:
    """dist(0, dF(w, b)) with margins within ``eta`` of 1 treated as ties (alpha in [0, c_i])."""
    m = y * (X @ w + b)
    active = m < 1 - eta
    tie = np.abs(m - 1) <= eta
    r = np.concatenate([c_r * w - X[active].T @ (c[active] * y[active]),
                        [-np.sum(c[active] * y[active])]])
    if not tie.any():
        return float(np.linalg.norm(r))
    B = np.vstack([(X[tie] * y[tie, None]).T, y[tie][None, :]])
    hi = c[tie]
    fit = lsq_linear(B, r, bounds=(np.zeros_like(hi), hi), tol=1e-14, lsmr_tol="auto")
    return float(np.linalg.norm(r - B @ fit.x))


def _smoothed_start(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
                    x0: np.ndarray, delta: float, max_iter: int) -> np.ndarray:
    """L-BFGS on the Huber-smoothed hinge (quadratic on 1-delta < m < 1)."""

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = v[:-1], v[-1]
        m = y * (X @ w + b)
        u = 1.0 - m
        lin = u >= delta
        quad = (u > 0) & ~lin
        loss = np.where(lin, u - delta / 2, np.where(quad, u**2 / (2 * delta), 0.0))
        dl = np.where(lin, -1.0, np.where(quad, -u / delta, 0.0)) * c * y
        g = np.concatenate([X.T @ dl + c_r * w, [dl.sum()]])
        return float(c @ loss) + 0.5 * c_r * float(w @ w), g

    res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "maxcor": 30, "gtol": 1e-11, "ftol": 0.0})
    return res.x


def _kkt_solve(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
               active: np.ndarray, tie: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(w, b, alpha_M) with alpha = c on ``active``, margins = 1 on ``tie``, KKT stationarity."""
    u = X[active].T @ (c[active] * y[active])
    Z = X[tie] * y[tie, None]
    yt = y[tie]
    k = len(yt)
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = Z @ Z.T / c_r
    K[:k, k] = yt
    K[k, :k] = yt
    rhs = np.concatenate([1.0 - Z @ u / c_r, [-np.sum(c[active] * y[active])]])
    try:
        sol = np.linalg.solve(K, rhs)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
    alpha = sol[:k]
    w = (u + Z.T @ alpha) / c_r
    return w, float(sol[k]), alpha


def solve(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float, x0: np.ndarray,
          max_iter: int = 2000, max_rounds: int = 200) -> tuple[np.ndarray, float]:
    """Exact minimiser (w, b) of F: smoothed start, then active-set KKT solves."""
    scale = float(np.max(c)) if len(c) else 1.0
    v = _smoothed_start(X, y, c, c_r, x0, delta=1e-4, max_iter=max_iter)
    m = y * (X @ v[:-1] + v[-1])
    active = m < 1 - 1e-4
    tie = (m >= 1 - 1e-4) & (m <= 1 + 1e-7)
    if not tie.any():
        tie[np.argmin(np.abs(m - 1))] = True
        active &= ~tie
    w, b = v[:-1], float(v[-1])
    for rounds in range(max_rounds):
        w, b, alpha = _kkt_solve(X, y, c, c_r, active, tie)
        m = y * (X @ w + b)
        idx = np.flatnonzero(tie)
        tol = 1e-12
        low = idx[alpha < -tol * scale]
        high = idx[alpha > c[idx] * (1 + tol) + tol * scale]
        a_bad = np.flatnonzero(active & (m > 1 + 1e-12))
        i_bad = np.flatnonzero(~active & ~tie & (m < 1 - 1e-12))
        if not (len(low) or len(high) or len(a_bad) or len(i_bad)):
            break
        if rounds >= max_rounds // 4:  # anti-cycling: move only the worst violator
            scores = np.concatenate([-alpha[np.isin(idx, low)], alpha[np.isin(idx, high)]
                                     - c[high], m[a_bad] - 1, 1 - m[i_bad]])
            moves = np.concatenate([low, high, a_bad, i_bad])
            pick = moves[np.argmax(scores)]
            low, high = low[low == pick], high[high == pick]
            a_bad, i_bad = a_bad[a_bad == pick], i_bad[i_bad == pick]
        tie[low] = False
        tie[high] = False
        active[high] = True
        active[a_bad] = False
        tie[a_bad] = True
        tie[i_bad] = True
        if not tie.any():
            tie[np.argmin(np.abs(m - 1))] = True
            active &= ~tie
    return w, b


def merge_duplicates(X: np.ndarray, y: np.ndarray,
                     c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identical (x, y) rows become one row whose weight is the sum (copies are weights)."""
    rows, inverse = np.unique(np.hstack([X, y[:, None]]), axis=0, return_inverse=True)
    merged = np.zeros(len(rows))
    np.add.at(merged, inverse.ravel(), c)
    return rows[:, :-1], rows[:, -1], merged

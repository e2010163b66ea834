"""Exact solver and optimality certificate for the L2-regularised hinge loss (linear SVM).

Objective (seed 001 eq. (1), weights c_i = v_i / sum v):

    F(w, b) = sum_i c_i max(0, 1 - m_i) + C_R/2 ||w||^2,   m_i = y_i (w.x_i + b).

Optimality (subgradient form): 0 is in dF, i.e. there are alpha_i with alpha_i = c_i where
m_i < 1, alpha_i = 0 where m_i > 1, alpha_i in [0, c_i] where m_i = 1, and

    C_R w = sum_i alpha_i y_i x_i,      sum_i alpha_i y_i = 0.

:func:`solve` finds such a point exactly: starting sets come from a warm start or from libsvm's
dual solution at a loose tolerance, then the KKT linear system is solved for the margin set M
and the sets are corrected, one worst violator at a time, until consistent (active-set method).
:func:`subgradient_residual` is the solver-independent certificate: the distance from 0 to dF
at (w, b), computed by bounded least
squares over the margin points' alpha; the victim's fit requires it to be <= tol.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear

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
    fit = lsq_linear(B, r, bounds=(np.zeros_like(hi), hi), method="bvls", tol=1e-15)
    return float(np.linalg.norm(r - B @ fit.x))


def _kkt_solve(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
               active: np.ndarray, tie: np.ndarray
               ) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """(w, b, alpha_M, singular) with alpha = c on ``active``, margins = 1 on ``tie``, KKT
    stationarity; ``singular``: the system is rank-deficient, so alpha_M is not unique."""
    u = X[active].T @ (c[active] * y[active])
    Z = X[tie] * y[tie, None]
    yt = y[tie]
    k = len(yt)
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = Z @ Z.T / c_r
    K[:k, k] = yt
    K[k, :k] = yt
    rhs = np.concatenate([1.0 - Z @ u / c_r, [-np.sum(c[active] * y[active])]])
    sol, _, rank, _ = np.linalg.lstsq(K, rhs, rcond=None)
    sol += np.linalg.lstsq(K, rhs - K @ sol, rcond=None)[0]      # one refinement step
    alpha = sol[:k]
    w = (u + Z.T @ alpha) / c_r
    return w, float(sol[k]), alpha, bool(rank < k + 1)


def _violations(X: np.ndarray, y: np.ndarray, c: np.ndarray, active: np.ndarray,
                tie: np.ndarray, w: np.ndarray, b: float, alpha: np.ndarray,
                bland: bool) -> tuple[int, float]:
    """A KKT violation of the current sets: (index, size); size <= 1e-12 means none.

    The worst one, or with ``bland`` the lowest-index one (Bland's anti-cycling rule).
    """
    m = y * (X @ w + b)
    idx = np.flatnonzero(tie)
    gaps = np.full(len(y), -np.inf)
    gaps[idx] = np.maximum(-alpha, alpha - c[idx]) / c[idx]        # alpha outside [0, c_i]
    gaps[active] = m[active] - 1                                     # active but margin > 1
    free = ~active & ~tie
    gaps[free] = 1 - m[free]                                         # inactive but margin < 1
    if bland:
        bad = np.flatnonzero(gaps > 1e-12)
        worst = int(bad[0]) if len(bad) else int(np.argmax(gaps))
    else:
        worst = int(np.argmax(gaps))
    return worst, float(gaps[worst])


def _margins_consistent(X: np.ndarray, y: np.ndarray, active: np.ndarray, tie: np.ndarray,
                        w: np.ndarray, b: float) -> bool:
    m = y * (X @ w + b)
    free = ~active & ~tie
    return bool(np.all(m[active] <= 1 + 1e-12) and np.all(m[free] >= 1 - 1e-12))


def _active_set(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float, active: np.ndarray,
                tie: np.ndarray, rounds: int) -> tuple[np.ndarray, float] | None:
    """Correct the sets one worst violator at a time; None if still inconsistent.

    A tie's alpha outside [0, c_i] is a violation only when alpha_M is unique: on a singular
    system another alpha_M may lie in the box, which the certificate decides.  A non-singular
    system has a unique alpha_M (a null vector v of [Z; y^T]^T would give K [v; 0] = 0), so the
    certificate is skipped there; and it is tried once per call: on label-flip sets with
    ~1,700 ties one bounded least-squares solve takes over a minute, and retrying it every
    round made single fits run for an hour.
    """
    active, tie = active.copy(), tie.copy()
    certificate_tried = False
    for step in range(rounds):
        if not tie.any():
            return None
        w, b, alpha, singular = _kkt_solve(X, y, c, c_r, active, tie)
        i, gap = _violations(X, y, c, active, tie, w, b, alpha, bland=step >= rounds // 4)
        if gap <= 1e-12:
            return w, b
        if (tie[i] and singular and not certificate_tried
                and _margins_consistent(X, y, active, tie, w, b)):
            certificate_tried = True
            if subgradient_residual(X, y, c, c_r, w, b) <= 1e-11:
                return w, b                  # alpha is not unique: a feasible one exists
        if tie[i]:
            active[i] = alpha[np.searchsorted(np.flatnonzero(tie), i)] > c[i]
            tie[i] = False
        else:
            active[i] = False
            tie[i] = True
    return None


def _libsvm_sets(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
                 tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Active / tie sets from libsvm's dual solution (sklearn ``SVC``, linear kernel).

    libsvm minimises 1/2 ||w||^2 + sum_i C v_i xi_i; with C v_i = c_i / C_R this is F / C_R, and
    our alpha (C_R w = sum alpha_i y_i x_i) is C_R times libsvm's.
    """
    from sklearn.svm import SVC

    n = len(y)
    svc = SVC(kernel="linear", C=1.0 / (n * c_r), tol=tol, cache_size=1000)
    svc.fit(X, y, sample_weight=c * n)
    alpha = np.zeros(n)
    alpha[svc.support_] = np.abs(svc.dual_coef_.ravel()) * c_r
    active = alpha >= c * (1 - 1e-8)
    return active, (alpha > c * 1e-8) & ~active


def libsvm_primal(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
                  tol: float = 1e-12) -> tuple[np.ndarray, float]:
    """libsvm's own (w, b) at tolerance ``tol`` (deterministic, not certified): the exact
    solver's last resort on degenerate sets at 1e-12."""
    from sklearn.svm import SVC

    n = len(y)
    svc = SVC(kernel="linear", C=1.0 / (n * c_r), tol=tol, cache_size=1000)
    svc.fit(X, y, sample_weight=c * n)
    return svc.coef_.ravel().copy(), float(svc.intercept_[0])


def solve(X: np.ndarray, y: np.ndarray, c: np.ndarray, c_r: float,
          x0: np.ndarray | None = None, rounds: int = 60) -> tuple[np.ndarray, float]:
    """Exact minimiser (w, b) of F by active-set KKT solves.

    The sets start from the warm start ``x0`` (margins < 1 active, within 1e-9 of 1 tied) and,
    if that does not become consistent within ``rounds`` single moves, from libsvm's dual
    solution at tolerance 1e-6, then 1e-12; on degenerate sets where none becomes consistent,
    libsvm's own solution at 1e-12 is returned (the caller's certificate decides).
    """
    if x0 is not None:
        m = y * (X @ x0[:-1] + x0[-1])
        tie = np.abs(m - 1) <= 1e-9
        if tie.any():
            found = _active_set(X, y, c, c_r, m < 1 - 1e-9, tie, rounds)
            if found is not None:
                return found
    for tol in (1e-6, 1e-12):
        active, tie = _libsvm_sets(X, y, c, c_r, tol)
        if not tie.any():
            tie[np.argmax(~active)] = True
        found = _active_set(X, y, c, c_r, active & ~tie, tie, 4 * rounds)
        if found is not None:
            return found
    return libsvm_primal(X, y, c, c_r)


def merge_duplicates(X: np.ndarray, y: np.ndarray,
                     c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identical (x, y) rows become one row whose weight is the sum (copies are weights).

    Rows are matched on their bytes through a hash table, in first-occurrence order: sorting
    them (``np.unique(axis=0)``) cost three times the hinge solve itself inside Algorithm 1.
    """
    rows = np.ascontiguousarray(np.hstack([X, y[:, None]]))
    slots: dict[bytes, int] = {}
    first: list[int] = []
    inverse = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        key = row.tobytes()
        if key not in slots:
            slots[key] = len(first)
            first.append(i)
        inverse[i] = slots[key]
    merged = np.zeros(len(slots))
    np.add.at(merged, inverse, c)
    return rows[first, :-1], rows[first, -1], merged

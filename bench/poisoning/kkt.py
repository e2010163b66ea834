r"""The KKT attack (Koh, Steinhardt & Liang 2018), the baseline of seed 001 §5 (notes P1.4).

Given a target ``theta_p = (w_p, b_p)`` and a budget of ``n`` poisons, the attack asks that
``theta_p`` be stationary for eq. (1) on ``D_c u D_p``.  In sum form (``R = ||w||^2 / 2``):

.. math::

    G = \sum_{i \in D_c} \nabla l(\theta_p; x_i, y_i)
        + n_+ \nabla l(\theta_p; x_+, +1) + n_- \nabla l(\theta_p; x_-, -1)
        + (N + n)\, C_R\, (w_p, 0) = 0 .

For binary margin losses a poison set of any size can be replaced by one of the same size with
only **two distinct points**, one per class (the Caratheodory argument of Koh et al.), so the
unknowns are ``x_+, x_-`` in the box and the split ``n_+ + n_- = n``, searched on a grid; per
split the attack minimises ``||G||^2``.

- Hinge: with both points on or inside the margin (``y (w_p.x + b_p) <= 1``, so their gradient
  is ``-y (x, 1)``) the problem is a convex QP in ``(x_+, x_-)``.  Solved here by FISTA with the
  exact projection onto box ∩ half-space (bisection on the multiplier of the half-space).
- Logistic: ``grad l = -y sigma(-y s) (x, 1)`` makes ``||G||^2`` non-convex (the reason seed 001
  gives for KKT's weakness on LR); solved approximately by projected Adam from seeded starts.

The budget ``n`` is an input; the whole solve is rerun for each budget (seed 001 §P1.9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.poisoning.convex import ConvexVictim, HingeVictim, LogisticVictim, Params
from bench.poisoning.loss_difference import check_box

SPLITS = tuple(round(0.05 * i, 2) for i in range(21))   # n_+ / n on the grid 0, 0.05, ..., 1


class KKTError(ValueError):
    """Bad KKT attack input: budget, box, split grid, victim, or an empty feasible set."""


@dataclass(frozen=True)
class TwoPointPoisons:
    """``n_plus`` copies of ``(x_plus, +1)`` and ``n_minus`` of ``(x_minus, -1)``; ``residual``
    is ``||G|| / (N + n)``, the norm of the eq. (1) gradient at the target on the mixture."""

    x_plus: np.ndarray
    x_minus: np.ndarray
    n_plus: int
    n_minus: int
    residual: float

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct points, labels and copy counts (zero-count points left out)."""
        pairs = [(x, y, n) for x, y, n in ((self.x_plus, 1.0, self.n_plus),
                                          (self.x_minus, -1.0, self.n_minus)) if n > 0]
        return (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]),
                np.array([p[2] for p in pairs], dtype=np.int64))


def project_box_halfspace(z: np.ndarray, a: np.ndarray, c: float, lo: float, hi: float,
                          iters: int = 100) -> np.ndarray:
    """Euclidean projection of ``z`` on ``{x in [lo, hi]^d : a.x <= c}``.

    KKT: ``x = clip(z - mu a, lo, hi)`` with the least ``mu >= 0`` making ``a.x <= c``;
    ``a.clip(z - mu a)`` is non-increasing in ``mu``, so ``mu`` is found by bisection.
    """
    x = np.clip(z, lo, hi)
    if a @ x <= c:
        return x
    least = float(np.where(a > 0, lo, hi) @ a)
    if least > c:
        raise KKTError(f"the box [{lo}, {hi}]^d has no point with a.x <= {c:.6g} "
                       f"(least a.x is {least:.6g})")
    low, high = 0.0, 1.0
    while a @ np.clip(z - high * a, lo, hi) > c:
        high *= 2.0
    for _ in range(iters):
        mid = 0.5 * (low + high)
        if a @ np.clip(z - mid * a, lo, hi) > c:
            low = mid
        else:
            high = mid
    return np.clip(z - high * a, lo, hi)


def clean_gradient(victim: ConvexVictim, X: np.ndarray, y: np.ndarray, target: Params,
                   n: int) -> np.ndarray:
    """``sum_i grad l(theta_p; x_i, y_i) + (N + n) C_R (w_p, 0)``: G without the poisons."""
    g = victim.sample_grads(target, X, y).sum(axis=0)
    g[:-1] += (len(y) + n) * victim.c_r * target.w
    return g


def _hinge_split(base: np.ndarray, target: Params, n_plus: int, n_minus: int, lo: float,
                 hi: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """FISTA on ``||base_w - n_+ x_+ + n_- x_-||^2`` with both points inside the margin."""
    d = len(target.w)
    u = base[:d]
    w, b = target.w, float(target.b)
    # x_+: w.x + b <= 1;  x_-: -(w.x + b) <= 1.
    cons = ((w, 1.0 - b), (-w, 1.0 + b))
    start = [project_box_halfspace(np.full(d, 0.5 * (lo + hi)), a, c, lo, hi) for a, c in cons]
    xp, xm = start
    yp, ym = xp.copy(), xm.copy()
    step = 1.0 / (2.0 * (n_plus**2 + n_minus**2))
    t = 1.0
    for _ in range(steps):
        r = u - n_plus * yp + n_minus * ym           # half the gradient is -n_+ r, +n_- r
        new_p = project_box_halfspace(yp + step * 2 * n_plus * r, *cons[0], lo, hi) \
            if n_plus else yp
        new_m = project_box_halfspace(ym - step * 2 * n_minus * r, *cons[1], lo, hi) \
            if n_minus else ym
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        yp = new_p + (t - 1) / t_next * (new_p - xp)
        ym = new_m + (t - 1) / t_next * (new_m - xm)
        xp, xm, t = new_p, new_m, t_next
    return xp, xm


def _logistic_point_grad(x: np.ndarray, label: float, target: Params, r: np.ndarray
                         ) -> np.ndarray:
    """``d/dx [r . grad l(theta_p; x, label)]``, ``grad l = -y p (x, 1)``, ``p = sigma(-y s)``."""
    s = float(target.w @ x + target.b)
    p = 1.0 / (1.0 + np.exp(np.clip(label * s, -700, 700)))
    return -label * p * r[:-1] + p * (1 - p) * (r[:-1] @ x + r[-1]) * target.w


def _logistic_split(base: np.ndarray, target: Params, n_plus: int, n_minus: int, lo: float,
                    hi: float, steps: int, rng: np.random.Generator,
                    restarts: int) -> tuple[np.ndarray, np.ndarray]:
    """Projected Adam on ``||G||^2`` (non-convex) from ``restarts`` uniform starts."""
    d = len(target.w)
    best, best_value = None, np.inf
    for _ in range(restarts):
        z = rng.uniform(lo, hi, size=(2, d))
        m, v = np.zeros_like(z), np.zeros_like(z)
        for t in range(1, steps + 1):
            r = _residual(base, target, z[0], z[1], n_plus, n_minus, logistic=True)
            g = np.stack([n_plus * _logistic_point_grad(z[0], 1.0, target, r),
                          n_minus * _logistic_point_grad(z[1], -1.0, target, r)])
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            z = np.clip(z - 0.02 * (hi - lo) * (m / (1 - 0.9**t))
                        / (np.sqrt(v / (1 - 0.999**t)) + 1e-12), lo, hi)
        value = float(np.linalg.norm(_residual(base, target, z[0], z[1], n_plus, n_minus,
                                               logistic=True)))
        if value < best_value:
            best, best_value = z, value
    assert best is not None
    return best[0], best[1]


def _residual(base: np.ndarray, target: Params, xp: np.ndarray, xm: np.ndarray, n_plus: int,
              n_minus: int, *, logistic: bool) -> np.ndarray:
    """``G`` for the two points (hinge: both assumed inside the margin)."""
    out = base.copy()
    for x, label, count in ((xp, 1.0, n_plus), (xm, -1.0, n_minus)):
        weight = 1.0
        if logistic:
            s = float(target.w @ x + target.b)
            weight = 1.0 / (1.0 + np.exp(np.clip(label * s, -700, 700)))
        out[:-1] -= count * label * weight * x
        out[-1] -= count * label * weight
    return out


def kkt_attack(victim: ConvexVictim, X: np.ndarray, y: np.ndarray, target: Params, n: int, *,
               lo: float, hi: float, splits: tuple[float, ...] = SPLITS, steps: int = 400,
               restarts: int = 2, seed: int = 0) -> TwoPointPoisons:
    """The two-point KKT attack with budget ``n``: the split and points of least ``||G||``."""
    check_box(lo, hi)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise KKTError(f"KKT budget n must be an integer >= 1, got {n!r}")
    if not splits or any(not 0 <= s <= 1 for s in splits):
        raise KKTError(f"splits must be fractions n_+/n in [0, 1], got {splits!r}")
    if steps < 1 or restarts < 1:
        raise KKTError(f"steps and restarts must be >= 1, got {steps}, {restarts}")
    logistic = isinstance(victim, LogisticVictim)
    if not (logistic or isinstance(victim, HingeVictim)):
        raise KKTError(f"the KKT attack needs a binary hinge or logistic victim, got "
                       f"{victim.name!r}")
    n = int(n)
    base = clean_gradient(victim, X, y, target, n)
    # The split that zeroes the bias row for inside-margin hinge points: n_+ - n_- = g_b.
    balanced = min(max((n + base[-1]) / (2 * n), 0.0), 1.0)
    rng = np.random.default_rng(seed)
    best: TwoPointPoisons | None = None
    for n_plus in sorted({round(s * n) for s in (*splits, balanced)}):
        n_minus = n - n_plus
        if logistic:
            xp, xm = _logistic_split(base, target, n_plus, n_minus, lo, hi, steps, rng,
                                     restarts)
        else:
            xp, xm = _hinge_split(base, target, n_plus, n_minus, lo, hi, steps)
        residual = float(np.linalg.norm(_residual(base, target, xp, xm, n_plus, n_minus,
                                                  logistic=logistic))) / (len(y) + n)
        if best is None or residual < best.residual:
            best = TwoPointPoisons(xp, xm, n_plus, n_minus, residual)
    assert best is not None
    return best

"""Certified lower bound on the poisons needed to induce theta_p (seed 001 Theorem 2).

    |D_p| >= sup_theta z(theta),
    z(theta) = [L(theta_p; D_c) - L(theta; D_c) + N C_R (R(theta_p) - R(theta))]
               / [sup_{x,y} (l(theta; x, y) - l(theta_p; x, y)) + C_R (R(theta) - R(theta_p))]

with L a sum over the N clean points.  The numerator is N (F(theta_p) - F(theta)) with F the
eq. (1) clean objective.  The sup in the denominator must be exact (hinge: four LPs), otherwise
z is not a bound; Algorithm 1 evaluates z at each iterate and keeps the largest.
"""

from __future__ import annotations

import numpy as np

from bench.poisoning.convex import ConvexVictim, Params


def z_value(victim: ConvexVictim, theta: Params, target: Params, X: np.ndarray,
            y: np.ndarray, max_difference: float) -> float | None:
    """z(theta) of Theorem 2; None when the denominator is <= 0 (theta_p not attainable)."""
    n = len(y)
    numerator = n * (victim.objective(target, X, y) - victim.objective(theta, X, y))
    denominator = max_difference + victim.c_r * (theta.regularizer() - target.regularizer())
    if denominator <= 0:
        return None
    return numerator / denominator


def certified_count(z_values: list[float | None]) -> int:
    """ceil(max z) over the iterates, floored at 0 (|D_p| is a non-negative integer)."""
    finite = [z for z in z_values if z is not None]
    return int(np.ceil(max(finite) - 1e-9)) if finite and max(finite) > 0 else 0

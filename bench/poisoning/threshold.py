r"""The poisonability threshold tau of Lu, Kamath & Yu (seed 002, §3): no training needed.

For a target model ``w`` and clean data ``mu`` the attacker must make the target stationary on the
mixture ``chi = (1 - lambda) mu + lambda nu`` with ``lambda = eps_d / (1 + eps_d)``.  Taking the
inner product of that stationarity condition with ``w`` gives a scalar, necessary condition.

Margin losses ``l(t)``, ``t = y <w, x>`` (seed 002 Example 2, Corollary 2): with
``A = <w, g(mu)> = mean_i t_i l'(t_i)`` and ``a = inf_t t l'(t)``,

.. math::

    \epsilon_d \ge \tau = A / (-a), \qquad
    \lambda \ge A / (A - a)  \;\Longleftrightarrow\; \epsilon_d \ge \tau .

``a`` is ``-W(1/e)`` for the logistic loss (``W`` = Lambert W), ``-1`` for the hinge loss and
``-1/e`` for the exponential loss.  For softmax cross-entropy (Example 3, eq. 29) the trace of the
condition gives ``A = E <h, softmax(h) - y>`` from the logits ``h`` and ``a = -W((c - 1)/e)``;
for networks the same holds for the last layer with penultimate features (Theorem 4), so only a
necessary condition.  Least squares has an unbounded loss and threshold 0 (Example 1).

Bias: the bias is the weight of a constant feature, so margins and logits include it.
Regularization [derived, not in the paper]: a victim minimising ``mean loss + C_R R(w)`` has the
stationarity condition ``g(mu) + r + eps_d (g(nu) + r) = 0`` with ``r = grad(C_R R)(w)``; with
``rho = <w, r>`` (``C_R ||w||^2`` for ``R = ||w||^2 / 2``) both ``A`` and ``a`` shift by ``rho``,
so ``tau = (A + rho) / (-(a + rho))``, infinite when ``a + rho >= 0``.  ``rho = 0`` is the paper.

>>> round(lambert_w_of(1 / math.e), 6)
0.278465
>>> tau_margin([-1.0, 2.0], loss="hinge")   # A = mean(t * l'(t)) = (1 + 0) / 2, a = -1
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import lambertw

MARGIN_LOSSES = ("logistic", "hinge", "exponential")


class ThresholdError(ValueError):
    """Input that does not define a threshold (wrong shape, NaN, unknown loss, ...)."""


def lambert_w_of(value: float) -> float:
    """The principal branch ``W_0(value)`` of the Lambert W function (``W e^W = value``)."""
    return float(lambertw(value, 0).real)


def margin_infimum(loss: str) -> float:
    r"""``a = inf_t t l'(t)`` for the margin loss ``loss`` (seed 002 eq. 18, Corollary 2).

    logistic ``l = log(1 + e^{-t})``: ``-W(1/e)`` at ``t* = 1 + W(1/e)``; hinge
    ``max(0, 1 - t)``: ``-1`` at ``t = 1``; exponential ``e^{-t}``: ``-1/e`` at ``t = 1``.
    """
    if loss == "logistic":
        return -lambert_w_of(1.0 / math.e)
    if loss == "hinge":
        return -1.0
    if loss == "exponential":
        return -1.0 / math.e
    raise ThresholdError(f"loss {loss!r} is not one of {', '.join(MARGIN_LOSSES)}")


def margin_term(margins: np.ndarray, loss: str) -> np.ndarray:
    """``t l'(t)`` elementwise: ``-t sigma(-t)``, ``-t [t < 1]`` or ``-t e^{-t}``."""
    t = np.asarray(margins, dtype=np.float64)
    if loss == "logistic":
        return -t * np.exp(-np.logaddexp(0.0, t))
    if loss == "hinge":
        return np.where(t < 1.0, -t, 0.0)
    if loss == "exponential":
        return -t * np.exp(-t)
    raise ThresholdError(f"loss {loss!r} is not one of {', '.join(MARGIN_LOSSES)}")


def _threshold(inner: float, infimum: float, rho: float) -> float:
    shifted_inner, shifted_inf = inner + rho, infimum + rho
    if shifted_inner <= 0.0:
        return 0.0  # seed 002 Corollary 2: <w, g(mu)> < 0 is poisonable for any lambda > 0
    if shifted_inf >= 0.0:
        return math.inf
    return shifted_inner / -shifted_inf


def _finite_vector(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ThresholdError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ThresholdError(f"{name} contains NaN or infinite values")
    return arr


def margin_inner(margins: Sequence[float] | np.ndarray, loss: str = "logistic") -> float:
    """``A = <w, g(mu)> = mean_i t_i l'(t_i)`` from the target's clean margins ``t_i``."""
    return float(margin_term(_finite_vector("margins", margins), loss).mean())


def tau_margin(margins: Sequence[float] | np.ndarray, loss: str = "logistic",
               rho: float = 0.0) -> float:
    """tau of a binary margin classifier from margins ``t_i = y_i (<w, x_i> + b)``, ``y in ±1``."""
    return _threshold(margin_inner(margins, loss), margin_infimum(loss), rho)


def softmax_inner(logits: np.ndarray, labels: np.ndarray) -> float:
    """``<W, G(mu)> = E <h, softmax(h) - onehot(y)>`` from logits ``h`` (seed 002 eqs. 27-28)."""
    h = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if h.ndim != 2 or h.shape[1] < 2:
        raise ThresholdError(f"logits must have shape [n, c >= 2], got {h.shape}")
    if y.shape != (h.shape[0],):
        raise ThresholdError(f"labels must have shape ({h.shape[0]},), got {y.shape}")
    if not np.all(np.isfinite(h)):
        raise ThresholdError("logits contain NaN or infinite values")
    if y.min() < 0 or y.max() >= h.shape[1]:
        raise ThresholdError(f"labels must lie in [0, {h.shape[1]}), got [{y.min()}, {y.max()}]")
    shifted = h - h.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(h.shape[0]), y] -= 1.0
    return float((h * p).sum(axis=1).mean())


def softmax_infimum(classes: int) -> float:
    """``inf <h, softmax(h) - y> = -W((c - 1)/e)`` over ``h in R^c`` (seed 002 eqs. A.8-A.12)."""
    if classes < 2:
        raise ThresholdError(f"classes must be >= 2, got {classes}")
    return -lambert_w_of((classes - 1) / math.e)


def tau_softmax(logits: np.ndarray, labels: np.ndarray, classes: int | None = None,
                rho: float = 0.0) -> float:
    """tau(c) for softmax cross-entropy from logits (seed 002 eq. 29).

    ``classes`` is the ``c`` in ``W((c - 1)/e)``; it defaults to the number of logits.  The
    paper's tables report ``tau(2)`` even for 10 classes (pass ``classes=2`` for that).
    """
    c = np.asarray(logits).shape[-1] if classes is None else classes
    return _threshold(softmax_inner(logits, labels), softmax_infimum(c), rho)


def tau_last_layer(features: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                   labels: np.ndarray, classes: int | None = None, rho: float = 0.0) -> float:
    """Last-layer tau(c) of a network from penultimate features ``phi`` (seed 002 Theorem 4).

    ``h = phi W^T + b`` with ``weight`` ``[c, k]``: a necessary condition only; ``rho`` is the
    regularizer's shift ``<W, grad C_R R(W)>`` of the last layer (module docstring).
    """
    phi = np.asarray(features, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if phi.ndim != 2 or w.ndim != 2 or w.shape[1] != phi.shape[1]:
        raise ThresholdError(
            f"features [n, k] and weight [c, k] do not fit: {phi.shape} and {w.shape}"
        )
    logits = phi @ w.T
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != (w.shape[0],):
            raise ThresholdError(f"bias must have shape ({w.shape[0]},), got {b.shape}")
        logits = logits + b
    return tau_softmax(logits, labels, classes, rho)


def tau_least_squares() -> float:
    """Least squares (and any unbounded convex loss): threshold 0 (seed 002 Ex. 1, Remark 2)."""
    return 0.0


def poison_fraction(eps_d: float) -> float:
    """``lambda = eps_d / (1 + eps_d)``: the poison's share of the mixture (seed 002 §2)."""
    return eps_d / (1.0 + eps_d)


def mixture_gradient_bound(inner: float, eps_d: float, weight_norm: float,
                           infimum: float | None = None) -> float:
    r"""Lower bound on ``||g(mu) + eps_d g(nu)||`` over every poison distribution ``nu``.

    [derived] ``<w, g(mu) + eps_d g(nu)> = A + eps_d E t l'(t) >= A + eps_d a`` and Cauchy-Schwarz:
    ``||g(mu) + eps_d g(nu)|| >= (A + eps_d a) / ||w||`` (logistic ``a = -W(1/e)``); positive
    exactly when ``eps_d < tau``.
    """
    a = margin_infimum("logistic") if infimum is None else infimum
    if weight_norm <= 0.0:
        raise ThresholdError(f"weight_norm must be positive, got {weight_norm}")
    return (inner + eps_d * a) / weight_norm

"""Convex victims trained exactly with the eq. (1) scaling of seed 001.

Seed 001 (``001_8694a807ce7439ce.txt``, Suya et al., ICML 2021), eq. (1): the victim trained on a
set D minimises

    F(theta; D) = (1/|D|) * sum_{(x,y) in D} l(theta; x, y) + C_R * R(theta),
    R(theta) = 1/2 * ||w||^2   (weights only; the bias b is explicit and unregularised),

so adding poisons D_p to N clean points is the same as minimising
L(theta; D_c u D_p) + (N + |D_p|) * C_R * R(theta).  Per-sample weights v_i generalise |D| to
sum_i v_i (an integer weight k is k copies of the point).  Every victim is fitted in float64 and
deterministically until the optimality residual is <= ``tol`` (1e-8 by default):

- smooth losses (logistic, softmax, squared): ||grad F||_2 (L-BFGS, then Newton / Newton-CG);
- hinge: the distance from 0 to the subdifferential of F (see :mod:`bench.poisoning.hinge`),
  reached exactly by an active-set solve of the KKT system.

A fit that does not reach ``tol`` raises :class:`NotConverged` with the final residual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_softmax, logsumexp, softmax

from bench.poisoning import hinge

DEFAULT_C_R = 0.09  # seed 001 code default (weight_decay) for MNIST 1-7 and Adult
DEFAULT_TOL = 1e-8


class NotConverged(RuntimeError):
    """A victim fit stopped with optimality residual ``residual`` above ``tol``."""

    def __init__(self, victim: str, residual: float, tol: float) -> None:
        super().__init__(f"{victim} fit did not converge: optimality residual {residual:.3e} > "
                         f"tol {tol:.1e}")
        self.residual = residual
        self.tol = tol


@dataclass(frozen=True)
class Params:
    """Linear model parameters: weights ``w`` (d,) or (d, c) and explicit bias ``b`` () or (c,)."""

    w: np.ndarray
    b: np.ndarray

    def vector(self) -> np.ndarray:
        """All parameters as one flat vector, bias last: ``[vec(w), b]``."""
        return np.concatenate([self.w.ravel(), np.atleast_1d(self.b)])

    def regularizer(self) -> float:
        """R(theta) = 1/2 ||w||^2 (the bias is not regularised)."""
        return 0.5 * float(np.sum(self.w**2))

    def distance(self, other: Params) -> float:
        """Euclidean distance ||theta - theta'||_2 over weights and bias."""
        return float(np.linalg.norm(self.vector() - other.vector()))


def normalized_weights(n: int, weights: np.ndarray | None) -> np.ndarray:
    """c_i = v_i / sum_j v_j (uniform 1/n when ``weights`` is None); validated."""
    if weights is None:
        return np.full(n, 1.0 / n)
    v = np.asarray(weights, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v < 0) or v.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return v / v.sum()


def stack_points(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    extra_X: np.ndarray | None,
    extra_y: np.ndarray | None,
    extra_weights: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """D_c u D_p as one weighted set (extra points weigh 1 each unless ``extra_weights``)."""
    if extra_X is None or len(extra_X) == 0:
        return X, y, weights
    extra_X = np.asarray(extra_X, dtype=np.float64).reshape(-1, X.shape[1])
    extra_y = np.asarray(extra_y).reshape(-1)
    if len(extra_y) != len(extra_X):
        raise ValueError(f"extra_y has {len(extra_y)} labels for {len(extra_X)} extra points")
    base = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    ew = np.ones(len(extra_X)) if extra_weights is None else np.asarray(extra_weights, float)
    return (np.vstack([X, extra_X]), np.concatenate([y, extra_y]).astype(y.dtype),
            np.concatenate([base, ew]))


class ConvexVictim:
    """Base of the victims: eq. (1) objective, validation and the fitting loop.

    Subclasses give the per-sample loss and its gradient w.r.t. the linear scores, the label
    check, the prediction rule and (optionally) an exact solver; everything else is shared.
    """

    name: ClassVar[str]
    smooth: ClassVar[bool] = True

    def __init__(self, c_r: float = DEFAULT_C_R, tol: float = DEFAULT_TOL,
                 max_iter: int = 2000) -> None:
        if not (np.isfinite(c_r) and c_r > 0):
            raise ValueError(f"c_r must be a positive finite number, got {c_r!r}")
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a positive finite number, got {tol!r}")
        if int(max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
        self.c_r = float(c_r)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(c_r={self.c_r}, tol={self.tol})"

    # -- per-model pieces -------------------------------------------------------------------
    def outputs(self, y: np.ndarray) -> int:
        """Number of score columns (1 for binary/regression; c for softmax)."""
        return 1

    def check_labels(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_loss(self, scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample losses l_i and dl_i/dscores (same shape as ``scores``)."""
        raise NotImplementedError

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    def _check(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or Inf")
        y = np.asarray(y).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} labels for {len(X)} points")
        return X, self.check_labels(y)

    def scores(self, params: Params, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ params.w + params.b

    def loss(self, params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-sample losses l(theta; x_i, y_i), shape (n,)."""
        X, y = self._check(X, y)
        return self.score_loss(self.scores(params, X), y)[0]

    def sample_grads(self, params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-sample (sub)gradients of l w.r.t. ``params.vector()``, shape (n, p)."""
        X, y = self._check(X, y)
        _, ds = self.score_loss(self.scores(params, X), y)
        ds = ds.reshape(len(X), -1)
        gw = (X[:, :, None] * ds[:, None, :]).reshape(len(X), -1)
        return np.hstack([gw, ds])

    def accuracy(self, params: Params, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of points whose prediction equals the label."""
        X, y = self._check(X, y)
        return float(np.mean(self.predict(params, X) == y))

    def objective(self, params: Params, X: np.ndarray, y: np.ndarray,
                  weights: np.ndarray | None = None) -> float:
        """F(theta) = sum_i c_i l_i + C_R * 1/2 ||w||^2, c_i = v_i / sum v (eq. (1))."""
        X, y = self._check(X, y)
        c = normalized_weights(len(X), weights)
        return float(c @ self.loss(params, X, y)) + self.c_r * params.regularizer()

    def objective_grad(self, params: Params, X: np.ndarray, y: np.ndarray,
                       weights: np.ndarray | None = None) -> np.ndarray:
        """grad F as a flat vector like ``params.vector()`` (a subgradient for hinge)."""
        X, y = self._check(X, y)
        c = normalized_weights(len(X), weights)
        _, ds = self.score_loss(self.scores(params, X), y)
        ds = ds.reshape(len(X), -1) * c[:, None]
        gw = X.T @ ds + self.c_r * params.w.reshape(X.shape[1], -1)
        return np.concatenate([gw.ravel(), ds.sum(axis=0)])

    def residual(self, params: Params, X: np.ndarray, y: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
        """Optimality residual: ||grad F||_2 (hinge overrides with dist(0, subdifferential))."""
        return float(np.linalg.norm(self.objective_grad(params, X, y, weights)))

    def unpack(self, vector: np.ndarray, d: int, k: int) -> Params:
        w = vector[: d * k].reshape(d, k) if k > 1 else vector[:d].copy()
        b = vector[d * k:].copy() if k > 1 else np.asarray(vector[d])
        return Params(w=w, b=b)

    def zeros(self, d: int, k: int) -> Params:
        return self.unpack(np.zeros(d * k + k), d, k)

    def fit(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, *,
            extra_X: np.ndarray | None = None, extra_y: np.ndarray | None = None,
            extra_weights: np.ndarray | None = None, init: Params | None = None) -> Params:
        """argmin_theta F(theta) on (X, y) plus optional extra (poison) points.

        ``weights`` are per-sample multiplicities of (X, y); ``extra_*`` are appended with
        weight 1 (or ``extra_weights``), so k copies of a poison are one extra point of weight k.
        ``init`` warm-starts the solver; the result does not depend on it beyond ``tol``.
        """
        X, y, c = self._training_set(X, y, weights, extra_X, extra_y, extra_weights)
        params = self._solve(X, y, c, init)
        res = self.residual(params, X, y, c)
        if not np.isfinite(res) or res > self.tol:
            raise NotConverged(self.name, float(res), self.tol)
        return params

    def _training_set(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None,
                      extra_X: np.ndarray | None, extra_y: np.ndarray | None,
                      extra_weights: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, c): the checked points plus the extra ones, with normalised weights c."""
        X, y = self._check(X, y)
        X, y, weights = stack_points(X, y, weights, extra_X, extra_y, extra_weights)
        X, y = self._check(X, y)
        return X, y, normalized_weights(len(X), weights)

    def fit_candidate(self, X: np.ndarray, y: np.ndarray, *, extra_X: np.ndarray,
                      extra_y: np.ndarray, extra_weights: np.ndarray,
                      init: Params | None = None) -> Params:
        """The model of a label-flip target candidate (seed 001 App. D.3): ``fit`` on D_c plus
        the weighted flips.  A target is whatever model the adversary picks, so a victim whose
        exact solver is slow on flip sets may fit candidates less exactly (see ``HingeVictim``)."""
        return self.fit(X, y, extra_X=extra_X, extra_y=extra_y, extra_weights=extra_weights,
                        init=init)

    def _solve(self, X: np.ndarray, y: np.ndarray, c: np.ndarray,
               init: Params | None) -> Params:
        d, k = X.shape[1], self.outputs(y)
        x0 = (init.vector() if init is not None else np.zeros(d * k + k)).astype(np.float64)

        def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
            p = self.unpack(v, d, k)
            obj = float(c @ self.score_loss(self.scores(p, X), y)[0]) + self.c_r * p.regularizer()
            return obj, self.objective_grad(p, X, y, c)

        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter, "maxcor": 30, "gtol": 1e-12,
                                "ftol": 0.0})
        return self._polish(self.unpack(res.x, d, k), X, y, c)

    def _polish(self, params: Params, X: np.ndarray, y: np.ndarray, c: np.ndarray) -> Params:
        """Newton steps on the weighted objective until ||grad|| <= tol/10 (or 50 steps)."""
        d, k = X.shape[1], self.outputs(y)
        v = params.vector()
        for _ in range(50):
            p = self.unpack(v, d, k)
            g = self.objective_grad(p, X, y, c)
            if np.linalg.norm(g) <= self.tol / 10:
                break
            v = v - self._newton_direction(p, X, y, c, g)
        return self.unpack(v, d, k)

    def _newton_direction(self, params: Params, X: np.ndarray, y: np.ndarray, c: np.ndarray,
                          g: np.ndarray) -> np.ndarray:
        """H^{-1} g with H the Hessian of F in (w, b); binary/regression models only."""
        h = self.score_curvature(self.scores(params, X), y) * c
        Xa = np.hstack([X, np.ones((len(X), 1))])
        H = Xa.T @ (Xa * h[:, None])
        H[: X.shape[1], : X.shape[1]] += self.c_r * np.eye(X.shape[1])
        return np.linalg.lstsq(H, g, rcond=None)[0]

    def score_curvature(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d^2 l / d score^2 per sample (binary/regression models)."""
        raise NotImplementedError


def _binary_labels(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.float64)
    bad = ~np.isin(y, (-1.0, 1.0))
    if bad.any():
        raise ValueError(f"labels must be -1 or +1, got {np.unique(y[bad])[:5]}")
    return y


class LogisticVictim(ConvexVictim):
    """Binary logistic regression: l = log(1 + exp(-y (w.x + b))), y in {-1, +1}."""

    name = "logistic"

    def check_labels(self, y: np.ndarray) -> np.ndarray:
        return _binary_labels(y)

    def score_loss(self, scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = y * scores
        return np.logaddexp(0.0, -m), -y * expit(-m)

    def score_curvature(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        s = expit(y * scores)
        return s * (1.0 - s)

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        return np.where(self.scores(params, X) >= 0, 1.0, -1.0)


class HingeVictim(ConvexVictim):
    """Linear SVM: l = max(0, 1 - y (w.x + b)), y in {-1, +1}; solved exactly (see ``hinge``).

    ``residual`` is the distance from 0 to the subdifferential of F (not a smoothed gradient).
    """

    name = "hinge"
    smooth = False

    def check_labels(self, y: np.ndarray) -> np.ndarray:
        return _binary_labels(y)

    def score_loss(self, scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = 1.0 - y * scores
        return np.maximum(u, 0.0), np.where(u > 0, -y, 0.0)

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        return np.where(self.scores(params, X) >= 0, 1.0, -1.0)

    def residual(self, params: Params, X: np.ndarray, y: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
        X, y = self._check(X, y)
        c = normalized_weights(len(X), weights)
        return hinge.subgradient_residual(X, y, c, self.c_r, params.w, float(params.b))

    def fit_candidate(self, X: np.ndarray, y: np.ndarray, *, extra_X: np.ndarray,
                      extra_y: np.ndarray, extra_weights: np.ndarray,
                      init: Params | None = None) -> Params:
        """libsvm's solution at tolerance 1e-6 (deterministic, not certified).  Label-flip sets
        put up to 1,730 of MNIST 1-7's 2,595 points on the margin (the flipped copies' loss
        is least there), where one exact certificate takes 40-80 s and a fit could take an
        hour; the exact ``fit`` stays the victim's retraining."""
        X, y, c = self._training_set(X, y, None, extra_X, extra_y, extra_weights)
        Xm, ym, cm = hinge.merge_duplicates(X, y, c)
        w, b = hinge.libsvm_primal(Xm, ym, cm, self.c_r, tol=1e-6)
        return Params(w=w, b=np.asarray(b))

    def _solve(self, X: np.ndarray, y: np.ndarray, c: np.ndarray,
               init: Params | None) -> Params:
        Xm, ym, cm = hinge.merge_duplicates(X, y, c)
        try:
            w, b = hinge.solve(Xm, ym, cm, self.c_r, None if init is None else init.vector())
        except RuntimeError as err:
            raise NotConverged(self.name, float("inf"), self.tol) from err
        return Params(w=w, b=np.asarray(b))


class SquaredVictim(ConvexVictim):
    """Least squares (ridge on w, free bias): l = 1/2 (y - w.x - b)^2; solved in closed form."""

    name = "squared"

    def check_labels(self, y: np.ndarray) -> np.ndarray:
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("regression targets contain NaN or Inf")
        return y

    def score_loss(self, scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = scores - y
        return 0.5 * r**2, r

    def score_curvature(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.ones_like(scores)

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        return self.scores(params, X)

    def _solve(self, X: np.ndarray, y: np.ndarray, c: np.ndarray,
               init: Params | None) -> Params:
        return self._polish(self.zeros(X.shape[1], 1), X, y, c)


class SoftmaxVictim(ConvexVictim):
    """Multiclass logistic regression: l = -log softmax(W^T x + b)_y, y in {0, ..., c-1}.

    The number of classes is fixed at construction (``classes``) so that a set missing a class
    still gives a (d, c) model.  The bias is shift-invariant (adding a constant to every b_k
    changes nothing); the gradient criterion is unaffected.
    """

    name = "softmax"

    def __init__(self, classes: int, c_r: float = DEFAULT_C_R, tol: float = DEFAULT_TOL,
                 max_iter: int = 5000) -> None:
        super().__init__(c_r=c_r, tol=tol, max_iter=max_iter)
        if int(classes) < 2:
            raise ValueError(f"classes must be >= 2, got {classes!r}")
        self.classes = int(classes)

    def outputs(self, y: np.ndarray) -> int:
        return self.classes

    def check_labels(self, y: np.ndarray) -> np.ndarray:
        if not np.issubdtype(y.dtype, np.integer):
            if not np.all(np.mod(y, 1) == 0):
                raise ValueError("softmax labels must be integers")
            y = y.astype(np.int64)
        bad = (y < 0) | (y >= self.classes)
        if bad.any():
            raise ValueError(f"labels must be in [0, {self.classes}), got {np.unique(y[bad])[:5]}")
        return y

    def score_loss(self, scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(y))
        loss = logsumexp(scores, axis=1) - scores[rows, y]
        ds = softmax(scores, axis=1)
        ds[rows, y] -= 1.0
        return loss, ds

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.scores(params, X), axis=1)

    def log_probs(self, params: Params, X: np.ndarray) -> np.ndarray:
        return log_softmax(self.scores(params, X), axis=1)

    def _newton_direction(self, params: Params, X: np.ndarray, y: np.ndarray, c: np.ndarray,
                          g: np.ndarray) -> np.ndarray:
        """Exact Hessian solve via Hessian-vector products and conjugate gradients."""
        from scipy.sparse.linalg import LinearOperator, cg

        d, k = X.shape[1], self.classes
        P = softmax(self.scores(params, X), axis=1)

        def hess_vec(v: np.ndarray) -> np.ndarray:
            V = v[: d * k].reshape(d, k)
            s = X @ V + v[d * k:]                           # directional change of scores
            t = P * (s - np.sum(P * s, axis=1, keepdims=True)) * c[:, None]
            return np.concatenate([(X.T @ t + self.c_r * V).ravel(), t.sum(axis=0)])

        op = LinearOperator((d * k + k, d * k + k), matvec=hess_vec, dtype=np.float64)
        step, _ = cg(op, g, rtol=1e-12, atol=0.0, maxiter=10 * (d * k + k))
        return step


VICTIMS: dict[str, type[ConvexVictim]] = {
    LogisticVictim.name: LogisticVictim,
    HingeVictim.name: HingeVictim,
    SquaredVictim.name: SquaredVictim,
    SoftmaxVictim.name: SoftmaxVictim,
}

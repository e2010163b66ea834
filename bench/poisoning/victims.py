r"""Registered victims of the ``retrain`` protocol: models retrained on clean + poison data.

A victim bundles the three things the protocol needs from a model: a deterministic fit (to a
stated tolerance, or an error carrying the residual), the differentiable :class:`Objective` the
attacks work on, and the poisonability threshold ``tau`` of a target (seed 002 §3).

The convex victims wrap :mod:`bench.poisoning.convex` (seed 001 eq. (1) scaling, float64, fitted
until the optimality residual is <= ``tol``, 1e-8 by default, well under the issue's 1e-6):

- ``logreg``: binary logistic regression, ``tau = (A + rho) / (W(1/e) - rho)``;
- ``multinomial``: multiclass logistic regression, ``tau(2)`` from the logits as the paper's
  tables report it (``tau(c)`` with ``c = 2`` in ``W((c - 1)/e)``);
- ``svm``: linear SVM (hinge, exact active-set solve), ``a = -1``;
- ``leastsq``: least squares (ridge on ``w``, free bias), ``tau = 0`` (seed 002 Example 1).

``rho = C_R ||w||^2`` is the regularizer's shift of both ``A`` and ``a``
(:mod:`bench.poisoning.threshold`).  The score is the test accuracy for classifiers and the
coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` for least squares (both fractions).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from bench.poisoning import threshold as th
from bench.poisoning.convex import (
    ConvexVictim,
    HingeVictim,
    LogisticVictim,
    NotConverged,
    SoftmaxVictim,
    SquaredVictim,
)
from bench.poisoning.objective import (
    Objective,
    ParamDict,
    linear_objective,
    params_from_torch,
    params_to_torch,
)
from bench.registry import victims


class VictimError(ValueError):
    """A victim that does not fit the data set (task, labels)."""


class VictimNotConverged(RuntimeError):
    """A fit that ended above its tolerance; carries the final gradient norm (residual)."""

    def __init__(self, victim: str, gradient_norm: float, tol: float) -> None:
        super().__init__(f"victim {victim} did not converge: gradient norm {gradient_norm:.3e} "
                         f"> tol {tol:.1e}; nothing is recorded for this run")
        self.gradient_norm = gradient_norm
        self.tol = tol


def r_squared(prediction: np.ndarray, y: np.ndarray) -> float:
    """``1 - sum (y - p)^2 / sum (y - mean y)^2``."""
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        raise VictimError("R^2 is undefined for constant regression targets")
    return 1.0 - float(np.sum((y - prediction) ** 2)) / total


class LinearVictim:
    """A convex victim from :mod:`bench.poisoning.convex` behind the protocol's interface."""

    name: ClassVar[str]
    loss: ClassVar[str]
    task: ClassVar[str]

    def __init__(self, convex: ConvexVictim) -> None:
        self.convex = convex
        self.objective: Objective = linear_objective(self.loss, convex.c_r)

    def __repr__(self) -> str:
        return f"{self.name}({self.convex!r})"

    def check(self, task: str) -> None:
        if task != self.task:
            raise VictimError(f"victim {self.name} needs a {self.task} data set, got {task}")

    def labels(self, y: np.ndarray) -> Tensor:
        return torch.as_tensor(y)

    def fit(self, x: np.ndarray, y: np.ndarray, extra_x: np.ndarray | None = None,
            extra_y: np.ndarray | None = None) -> ParamDict:
        """The exact minimiser of eq. (1) on ``(x, y)`` plus the extra points."""
        try:
            params = self.convex.fit(x, y, extra_X=extra_x, extra_y=extra_y)
        except NotConverged as err:
            raise VictimNotConverged(self.name, err.residual, err.tol) from None
        return params_to_torch(params)

    def score(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        return self.convex.accuracy(params_from_torch(params), x, y)

    def rho(self, params: ParamDict) -> float:
        return self.convex.c_r * float(params["w"].pow(2).sum())

    def tau(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError


class MarginVictim(LinearVictim):
    """Binary margin victims: ``tau`` from the target's clean margins ``y (w.x + b)``."""

    task = "binary"

    def margins(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p = params_from_torch(params)
        return y * (x @ p.w + p.b)

    def tau(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        return th.tau_margin(self.margins(params, x, y), self.loss, rho=self.rho(params))

    def infimum(self, params: ParamDict) -> float:
        """``a + rho``: the least value of ``<theta, g(z) + r>`` over single points."""
        return th.margin_infimum(self.loss) + self.rho(params)

    def inner(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        """``A + rho = <theta, g(mu) + r>``."""
        return th.margin_inner(self.margins(params, x, y), self.loss) + self.rho(params)


@victims.register("logreg", tags={"convex", "binary"})
class LogRegVictim(MarginVictim):
    """Binary logistic regression (seed 002 Example 2), fitted exactly to ``tol``."""

    name = "logreg"
    loss = "logistic"

    def __init__(self, c_r: float, tol: float = 1e-8) -> None:
        super().__init__(LogisticVictim(c_r=c_r, tol=tol))


@victims.register("svm", tags={"convex", "binary"})
class SvmVictim(MarginVictim):
    """Linear SVM, hinge loss (seed 001), exact active-set KKT solve to ``tol``."""

    name = "svm"
    loss = "hinge"

    def __init__(self, c_r: float, tol: float = 1e-8) -> None:
        super().__init__(HingeVictim(c_r=c_r, tol=tol))


@victims.register("multinomial", tags={"convex", "multiclass"})
class MultinomialVictim(LinearVictim):
    """Multiclass logistic regression (seed 002 Theorem 3), ``tau(2)`` from the logits."""

    name = "multinomial"
    loss = "softmax"
    task = "multiclass"

    def __init__(self, c_r: float, classes: int, tol: float = 1e-8) -> None:
        super().__init__(SoftmaxVictim(classes=classes, c_r=c_r, tol=tol))

    def labels(self, y: np.ndarray) -> Tensor:
        return torch.as_tensor(y, dtype=torch.long)

    def tau(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        p = params_from_torch(params)
        return th.tau_softmax(x @ p.w + p.b, y, classes=2, rho=self.rho(params))


@victims.register("leastsq", tags={"convex", "regression"})
class LeastSquaresVictim(LinearVictim):
    """Least squares with ridge on ``w`` (seed 002 Example 1): threshold 0, score ``R^2``."""

    name = "leastsq"
    loss = "squared"
    task = "regression"

    def __init__(self, c_r: float, tol: float = 1e-8) -> None:
        super().__init__(SquaredVictim(c_r=c_r, tol=tol))

    def score(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        return r_squared(self.convex.predict(params_from_torch(params), x), y)

    def tau(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        return th.tau_least_squares()

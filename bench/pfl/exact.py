r"""The global optimum of LOSS in the quadratic case: one d x d linear system (seed 004 Eq. 1).

For linear regression with R = lam ||rho - theta||^2, user n's optimal local model given rho is
theta_n(rho) = M_n (c_n + 2 lam rho) with M_n = (H_n + 2 nu I + 2 lam I)^{-1}, so the users' summed
report is affine in rho (Danskin: it is grad_rho LOSS_{-s}, seed 004 Eq. 169):

.. math:: G(\rho) = \sum_n 2\lambda(\rho - \theta_n(\rho)) = A\rho - b,\quad
          A = 2\lambda \sum_n (I - 2\lambda M_n),\quad b = 2\lambda \sum_n M_n c_n.

Users whose local model is pinned to theta^natural (the model attack) add 2 lam (rho - theta^nat).
The global optimum is the root of the total: rho* = (A + 2 lam k I)^{-1}(b + 2 lam sum theta^nat).
"""

from __future__ import annotations

import torch
from torch import Tensor

from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem, NotQuadratic
from bench.pfl.losses import LinearRegression
from bench.pfl.regularizers import SquaredL2


def _check(problem: LocalProblem) -> None:
    if not isinstance(problem.loss, LinearRegression) or not isinstance(
        problem.regularizer, SquaredL2
    ):
        raise NotQuadratic(
            "the exact solver needs linear regression with l2sq; got "
            f"{type(problem.loss).__name__} with {problem.regularizer.name}"
        )


def affine_response(problem: LocalProblem, data: Federation) -> tuple[Tensor, Tensor]:
    """(A, b) such that the users' optimally-responding summed report is G(rho) = A rho - b."""
    _check(problem)
    lam = problem.regularizer.lam
    hessian, linear = problem.loss.curvature(data)
    eye = torch.eye(hessian.shape[-1], dtype=hessian.dtype, device=hessian.device)
    inverse = torch.linalg.inv(hessian + (2.0 * problem.local_weight + 2.0 * lam) * eye)
    matrix = 2.0 * lam * (eye - 2.0 * lam * inverse).sum(dim=0)
    offset = 2.0 * lam * torch.einsum("npq,nq->p", inverse, linear)
    return matrix, offset


def summed_report(problem: LocalProblem, data: Federation, rho: Tensor) -> Tensor:
    """G(rho) = sum_n grad_rho R(rho, theta_n*(rho)) = grad_rho LOSS_{-s}(rho) (Eq. 169)."""
    matrix, offset = affine_response(problem, data)
    return matrix @ rho - offset


def global_optimum(
    problem: LocalProblem, data: Federation, pinned: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """(rho*, theta*) minimizing LOSS; ``pinned [k, d]`` are model-attack users' fixed models."""
    matrix, offset = affine_response(problem, data)
    if pinned is not None:
        lam = problem.regularizer.lam
        eye = torch.eye(matrix.shape[0], dtype=matrix.dtype, device=matrix.device)
        matrix = matrix + 2.0 * lam * pinned.shape[0] * eye
        offset = offset + 2.0 * lam * pinned.sum(dim=0)
    rho = torch.linalg.solve(matrix, offset)
    return rho, problem.exact(rho, data)

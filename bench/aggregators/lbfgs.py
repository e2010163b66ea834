"""Hessian-vector products from an L-BFGS memory, in compact form.

With the ``m`` most recent pairs ``s_k`` (parameter changes) and ``y_k`` (gradient changes) as
the columns of ``S`` and ``Y`` (``d x m``), ``A = S^T Y = L + D + U`` (strictly lower,
diagonal, strictly upper) and ``sigma = y_m^T s_m / s_m^T s_m``, the L-BFGS approximation of
the Hessian applied to ``v`` is (Byrd, Nocedal & Schnabel, Math. Programming 1994, Thm 2.3)::

    B v = sigma v - [sigma S, Y] M^+ [sigma S^T v; Y^T v],   M = [[sigma S^T S, L], [L^T, -D]]

(``M^+`` the pseudo-inverse).  Scaling every ``s_k`` and ``v`` by one constant leaves ``B v``
unchanged, so parameter changes may be given up to the step size.  Float64 throughout.
"""

from __future__ import annotations

import torch
from torch import Tensor


def lbfgs_hessian_product(steps: list[Tensor], changes: list[Tensor], v: Tensor) -> Tensor:
    """``B v`` from the pairs ``(steps[k], changes[k])`` (oldest first); ``v`` if none."""
    if not steps:
        return v
    S = torch.stack(steps, dim=1).double()
    Y = torch.stack(changes, dim=1).double()
    w = v.double()
    last_s, last_y = S[:, -1], Y[:, -1]
    sigma = float(last_y @ last_s) / max(float(last_s @ last_s), 1e-300)
    A = S.T @ Y
    lower = torch.tril(A, diagonal=-1)
    middle = torch.cat([
        torch.cat([sigma * (S.T @ S), lower], dim=1),
        torch.cat([lower.T, -torch.diag(torch.diagonal(A))], dim=1),
    ])
    rhs = torch.cat([sigma * (S.T @ w), Y.T @ w])
    p = torch.linalg.pinv(middle) @ rhs
    return (sigma * w - torch.cat([sigma * S, Y], dim=1) @ p).to(v.dtype)

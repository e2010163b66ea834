"""FoolsGold: down-weight clients whose update histories point the same way (sybils)."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows, zero_rows
from bench.registry import aggregators


def foolsgold_weights(history: Tensor) -> Tensor:
    """FoolsGold's per-client weights in ``[0, 1]`` from the ``[n, d]`` summed histories.

    ``cs`` = pairwise cosine similarity of the histories with a zero diagonal (zero
    histories: 0); ``v_i = max_j cs_ij``; pardoning ``cs_ij <- cs_ij v_i / v_j`` when
    ``v_i < v_j`` (and ``v_j > 0``); ``w_i = clip(1 - max_j cs_ij, 0, 1)``, divided by its
    maximum, 1 replaced by 0.99, then ``w_i <- clip(ln(w_i / (1 - w_i)) + 0.5, 0, 1)`` (the
    logit with confidence 1).  All zeros when every ``1 - max_j cs_ij`` is 0.
    """
    rows = history.double()
    norms = rows.norm(dim=1)
    units = rows / norms.clamp_min(torch.finfo(rows.dtype).tiny)[:, None]
    cs = (units @ units.T).fill_diagonal_(0.0)
    v = cs.max(dim=1).values
    pardon = (v[:, None] < v[None, :]) & (v[None, :] > 0)
    cs = torch.where(pardon, cs * v[:, None] / v[None, :].clamp_min(1e-300), cs)
    w = (1.0 - cs.max(dim=1).values).clamp(0.0, 1.0)
    top = float(w.max())
    if top == 0.0:
        return w
    w = w / top
    w = torch.where(w == 1.0, 0.99, w)
    with torch.no_grad():
        logit = torch.log(w / (1.0 - w)) + 0.5
    return torch.nan_to_num(logit, nan=0.0, posinf=1.0, neginf=0.0).clamp(0.0, 1.0)


@aggregators.register("foolsgold", tags={"stateful", "client-identity"})
class FoolsGold(Aggregator):
    """FoolsGold (Fung, Yoon & Beschastnikh, "The limitations of federated learning in sybil
    settings", RAID 2020, Algorithm 1 with confidence kappa = 1, no feature importance).

    The instance keeps each client's summed history ``H_i = sum_t u_i^t``; row ``i`` is client
    ``i`` (the simulator passes every round's rows in fixed client order, honest clients
    first, then the Byzantine ones).  Weights ``w`` come from the histories' cosine
    similarities (:func:`foolsgold_weights`); output::

        agg(U) = sum_i w_i u_i / sum_i w_i

    (the paper scales each client's learning rate by ``w_i``; normalising by ``sum w`` keeps
    the step's scale).  When every weight is 0 (all histories parallel: no client can be told
    from the others) the rule returns the plain mean of the finite rows.  ``f`` is not used.
    A row with a NaN or Inf entry gets weight 0 and adds nothing to its history.  A different
    ``n`` than the history's is an error; :meth:`reset` forgets the histories.

    >>> import torch
    >>> rule = FoolsGold()
    >>> rule(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    tensor([1., 0.])
    """

    name = "foolsgold"

    def __init__(self, f: int = 0) -> None:
        super().__init__(f)
        self.history: Tensor | None = None

    def aggregate(self, updates: Tensor) -> Tensor:
        finite = finite_rows(updates)
        safe = zero_rows(updates, finite)
        if self.history is None:
            self.history = torch.zeros_like(safe)
        elif self.history.shape != safe.shape:
            raise ValueError(
                f"foolsgold: keeps one history per client for {tuple(self.history.shape)} "
                f"updates, got {tuple(safe.shape)}; call reset() between runs"
            )
        self.history = self.history + safe.detach()
        weights = foolsgold_weights(self.history) * finite
        total = float(weights.sum())
        if total == 0.0:
            return safe[finite].mean(dim=0)
        return (weights.to(safe.dtype) @ safe) / total

    def reset(self) -> None:
        self.history = None

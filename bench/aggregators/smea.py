"""Smallest maximum eigenvalue averaging (SMEA): the ``n - f`` rows of least spread."""

from __future__ import annotations

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows, zero_rows
from bench.aggregators.subsets import best_subset
from bench.registry import aggregators


def subset_top_eigenvalues(gram: Tensor, masks: Tensor) -> Tensor:
    """``lambda_max`` of each kept subset's covariance, from the rows' ``[n, n]`` Gram matrix.

    A subset ``S`` of ``k`` rows has covariance ``Z^T J Z / k`` (``J = I - 1 1^T / k``), whose
    non-zero spectrum is that of the ``k x k`` matrix ``J G_S J / k``: the subset's Gram block
    with its row and column means removed, plus its grand mean.
    """
    k = int(masks[0].sum())
    kept = masks.nonzero()[:, 1].view(masks.shape[0], k)
    block = gram[kept[:, :, None], kept[:, None, :]]
    rows = block.mean(dim=2, keepdim=True)
    centred = block - rows - rows.transpose(1, 2) + rows.mean(dim=1, keepdim=True)
    return torch.linalg.eigvalsh(centred / k)[:, -1]


@aggregators.register("smea", tags={"spectral", "combinatorial"})
class SmallestMaxEigenvalueAveraging(Aggregator):
    """Smallest maximum eigenvalue averaging (Allouah, Guerraoui, Gupta, Pinot & Stephan, "On
    the privacy-robustness-utility trilemma in distributed learning", ICML 2023; ByzFL's
    ``SMEA``).

    ::

        S* = argmin_{|S| = n - f} lambda_max( (1/|S|) sum_{i in S} (u_i - mu_S)(u_i - mu_S)^T ),
        SMEA(U) = mu_{S*} = mean_{i in S*} u_i

    Exhaustive over the ``binom(n, f)`` subsets (refused above one million); each eigenvalue
    is exact, from the subset's ``(n - f) x (n - f)`` centred Gram block in float64 (ByzFL
    takes one power step).  Ties go to the first subset in lexicographic order of the left-out
    rows.  Hyperparameter: ``f``.  Needs ``f < n/2``.  Subsets holding a row with a NaN or Inf
    entry score ``inf``.

    >>> import torch
    >>> SmallestMaxEigenvalueAveraging(f=1)(torch.tensor([[0.0], [1.0], [2.0], [10.0]]))
    tensor([1.])
    """

    name = "smea"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        finite = finite_rows(updates)
        rows = zero_rows(updates, finite)
        if bool(finite.any()):
            rows = zero_rows(rows - rows[finite].median(dim=0).values, finite)
        scale = rows.abs().max().clamp_min(torch.finfo(rows.dtype).tiny)
        gram = ((rows / scale) @ (rows / scale).T).double()

        def spread(masks: Tensor) -> Tensor:
            values = subset_top_eigenvalues(gram, masks)
            return torch.where((masks & ~finite).any(dim=1), float("inf"), values)

        kept = best_subset(updates.shape[0], self.f, self.name, updates.device, spread)
        return updates[kept].mean(dim=0)

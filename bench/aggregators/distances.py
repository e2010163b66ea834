"""Pairwise squared Euclidean distances between updates, shared by Krum, Bulyan and NNM.

All pairs come from ONE Gram matrix product, ``D_ij = G_ii + G_jj - 2 G_ij`` with
``G = A A^T``, clamped at 0.  That identity loses every significant digit when the rows share a
component much larger than their differences (float32 momenta of norm 1e4 that differ by 1e-2),
because the three terms are huge and nearly cancel.  The rows are therefore centred first on a
point close to the honest rows even when Byzantine rows are arbitrarily far: the
coordinate-wise median of the finite rows, which lies inside the honest values' range in every
coordinate whenever fewer than ``n/2`` rows are Byzantine.  Subtracting a nearby centre is
exact in floating point (Sterbenz), so the product only carries the rounding of vectors of the
size of the honest spread.  The squared norms are the product's diagonal (no separate pass).

Cost: the median (a comparator network on a CPU, :mod:`bench.aggregators.selection`) and one
product, ``O(n^2 d)``, accumulated over blocks of columns centred in a cache-sized buffer.
Rows with a NaN or Inf entry are infinitely far
from everything (also from themselves), so rules that rank by distance never pick them; so are
finite rows whose squared norm overflows after centring.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from bench.aggregators.base import finite_rows
from bench.aggregators.median import coordinate_median


class Distances(NamedTuple):
    """``sq[i, j] = ||u_i - u_j||^2`` (``inf`` for non-finite rows), the finite-row mask and
    the medoid's index (-1 when no row is finite)."""

    sq: Tensor
    finite: Tensor
    medoid: int


def distances_to(points: Tensor, centre: Tensor, block: int = 32768) -> Tensor:
    """``||p_i - c||`` for every row of ``points`` (``Tensor[n]``), without an ``[n, d]`` copy.

    The differences are formed block by block of columns in a cache-sized buffer; the squared
    block norms are summed.  Equal to ``(points - centre).norm(dim=1)`` to round-off.
    """
    n, d = points.shape
    width = min(d, block)
    buffer = points.new_empty((n, width))
    total = points.new_zeros(n)
    for start in range(0, d, width):
        stop = min(start + width, d)
        diff = torch.sub(points[:, start:stop], centre[start:stop], out=buffer[:, : stop - start])
        total.add_(torch.linalg.vector_norm(diff, dim=1).square_())
    return total.sqrt_()


def weighted_differences(points: Tensor, centre: Tensor, weights: Tensor,
                         block: int = 32768) -> Tensor:
    """``sum_i w_i (p_i - c)`` (``Tensor[d]``), block by block, without an ``[n, d]`` copy."""
    n, d = points.shape
    width = min(d, block)
    buffer = points.new_empty((n, width))
    out = points.new_empty(d)
    for start in range(0, d, width):
        stop = min(start + width, d)
        diff = torch.sub(points[:, start:stop], centre[start:stop], out=buffer[:, : stop - start])
        torch.mv(diff.T, weights, out=out[start:stop])
    return out


def distances_from_gram(gram: Tensor) -> Tensor:
    """``D_ij = G_ii + G_jj - 2 G_ij`` clamped at 0, zero diagonal (``gram`` is overwritten)."""
    norms = gram.diagonal().clone()
    sq = gram.mul_(-2.0).add_(norms[:, None]).add_(norms[None, :])
    # Rows so large that their squared norm overflows give inf - inf = NaN: infinitely far.
    return sq.nan_to_num_(nan=float("inf")).clamp_(min=0.0).fill_diagonal_(0.0)


def centred_gram(updates: Tensor, centre: Tensor, finite: Tensor, block: int = 32768) -> Tensor:
    """``A A^T`` with ``A = updates - centre`` (non-finite rows of ``A`` set to 0), summed over
    blocks of columns formed in a cache-sized buffer: no ``[n, d]`` copy."""
    n, d = updates.shape
    width = min(d, block)
    buffer = updates.new_empty((n, width))
    gram = updates.new_zeros((n, n))
    clean = bool(finite.all())
    for start in range(0, d, width):
        stop = min(start + width, d)
        part = torch.sub(updates[:, start:stop], centre[start:stop],
                         out=buffer[:, : stop - start])
        if not clean:
            part[~finite] = 0.0
        gram.addmm_(part, part.T)
    return gram


def robust_centre(updates: Tensor, finite: Tensor) -> Tensor:
    """Coordinate-wise median of the finite rows (``Tensor[d]``)."""
    rows = updates if bool(finite.all()) else updates[finite]
    return coordinate_median(rows)


def pairwise_sq_distances(updates: Tensor) -> Distances:
    """Squared distances between the rows of ``updates`` (``Tensor[n, d]``) as a ``[n, n]``.

    The medoid is the finite row whose median distance to the rows is smallest.
    """
    finite = finite_rows(updates)
    n = updates.shape[0]
    if not bool(finite.any()):
        return Distances(updates.new_full((n, n), float("inf")), finite, -1)
    both = finite[:, None] & finite[None, :]
    gram = centred_gram(updates, robust_centre(updates, finite), finite)
    sq = torch.where(both, distances_from_gram(gram), float("inf"))
    medoid = int(torch.where(finite, sq.median(dim=1).values, float("inf")).argmin())
    return Distances(sq, finite, medoid)

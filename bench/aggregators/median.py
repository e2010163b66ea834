"""Median-based coordinate-wise rules: coordinate-wise median (cm) and mean around median.

Both read order statistics of every coordinate's ``n`` values.  On a CPU with ``n <= 128`` they
come from a pruned comparator network (:mod:`bench.aggregators.selection`), elsewhere (CUDA,
larger ``n``, or ``reference=True``) from one ``torch.sort`` along the client axis; both give
the same order statistics bitwise.  NaN values sort as ``+inf``; with at most ``f < n/2``
non-finite rows every statistic below reads finite values only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.aggregators.selection import network_plan, run_network, use_network
from bench.registry import aggregators

INF = float("inf")


def sort_columns(updates: Tensor) -> Tensor:
    """Each column sorted ascending, NaN sorted as ``+inf`` (``Tensor[n, d]``)."""
    return torch.nan_to_num(updates, nan=INF, posinf=INF, neginf=-INF).sort(dim=0).values


def median_of_sorted(ordered: Sequence[Tensor] | Tensor) -> Tensor:
    """Median of each sorted column; the average of the two middle values for even ``n``."""
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def median_ranks(n: int) -> tuple[int, ...]:
    """The ranks the median of ``n`` values reads: the middle one, or the middle two."""
    return (n // 2,) if n % 2 else (n // 2 - 1, n // 2)


def coordinate_median(updates: Tensor, reference: bool = False) -> Tensor:
    """Coordinate-wise median of ``Tensor[n, d]`` (even ``n``: mean of the middle two).

    ``reference=True`` forces the sort-based computation (the oracle of the network path).
    """
    n = updates.shape[0]
    if reference or not use_network(updates):
        if n % 2:
            values = torch.nan_to_num(updates, nan=INF, posinf=INF, neginf=-INF)
            return values.median(dim=0).values
        return median_of_sorted(sort_columns(updates))
    ranks = median_ranks(n)

    def finish(lines: Sequence[Tensor], out: Tensor) -> None:
        if len(ranks) == 1:
            out.copy_(lines[ranks[0]])
        else:
            torch.add(lines[ranks[0]], lines[ranks[1]], out=out).mul_(0.5)

    plan = network_plan(n, tuple((r,) for r in ranks))
    return run_network(updates, plan, finish, posinf=INF, neginf=-INF)


def _meamed_sorted(ordered: Tensor, keep: int) -> Tensor:
    n = ordered.shape[0]
    median = median_of_sorted(ordered)
    starts = n - keep + 1
    radius = torch.maximum(median - ordered[:starts], ordered[keep - 1 :] - median)
    best = radius.argmin(dim=0)
    rows = best[None, :] + torch.arange(keep, device=ordered.device)[:, None]
    return ordered.gather(0, rows).mean(dim=0)


def mean_around_median(
    updates: Tensor, keep: int, rows: Tensor | None = None, reference: bool = False
) -> Tensor:
    """Per coordinate, the average of the ``keep`` values closest to the median.

    In a sorted column ``o_0 <= ... <= o_{n-1}`` the ``keep`` values closest to the median
    ``m`` are a contiguous window ``o_s .. o_{s+keep-1}``; of the ``n - keep + 1`` windows it
    is the one with the smallest ``max(m - o_s, o_{s+keep-1} - m)`` (ties: the lowest ``s``).
    The window is summed directly rather than through prefix sums, which a huge Byzantine value
    at the bottom of a column would wreck by cancellation.  ``rows`` (optional indices) restricts
    the rule to those rows without copying them.  ``reference=True`` forces the sort.

    Network path: with ``s_max = n - keep``, the ranks strictly between ``s_max`` and
    ``keep - 1`` are in every window and needed only as a set, summed once; the median ranks
    and the ranks the radii read are computed individually and added where the chosen window
    covers them.
    """
    if rows is not None and (reference or not use_network(updates)):
        updates = torch.index_select(updates, 0, rows)
        rows = None
    n = updates.shape[0] if rows is None else rows.numel()
    if reference or not use_network(updates):
        return _meamed_sorted(sort_columns(updates), keep)
    last = n - keep
    individual = set(median_ranks(n)) | set(range(last + 1)) | set(range(keep - 1, n))
    core = tuple(r for r in range(last + 1, keep - 1) if r not in individual)
    singles = tuple(sorted(individual))
    plan = network_plan(n, ((core,) if core else ()) + tuple((r,) for r in singles))
    # Window s covers rank r when s <= r <= s + keep - 1: for s in [first[r], final[r]].
    first = {r: max(0, r - keep + 1) for r in singles}
    final = {r: min(r, last) for r in singles}
    always = tuple(r for r in singles if first[r] == 0 and final[r] == last)

    def finish(lines: Sequence[Tensor], out: Tensor) -> None:
        # Boolean masks and torch.where are slow on a CPU; 0/1 masks in the value dtype, exact
        # selection by lerp and inf * 0 = NaN mapped back to 0 keep everything in fast kernels.
        median = median_of_sorted(lines)
        best, smallest, radius, better = (torch.empty_like(out) for _ in range(4))
        for s in range(last + 1):
            torch.maximum(median - lines[s], lines[s + keep - 1] - median, out=radius)
            # Radii are >= 0 or NaN (inf - inf, beyond the f < n/2 contract); argmin takes the
            # first NaN as the minimum, so NaN becomes -1.
            radius.nan_to_num_(nan=-1.0, posinf=INF)
            if s == 0:
                best.zero_()
                smallest.copy_(radius)
                continue
            torch.lt(radius, smallest, out=better)
            best.lerp_(torch.full_like(best, s), better)  # exact at weights 0 and 1
            torch.minimum(smallest, radius, out=smallest)
        total = torch.zeros_like(out)
        for r in core + always:
            total.add_(lines[r])
        inside, term = better, radius
        for r in singles:
            if r in always:
                continue
            if first[r] == 0:
                torch.le(best, final[r], out=inside)
            else:
                torch.ge(best, first[r], out=inside)
                if final[r] < last:
                    inside.mul_(torch.le(best, final[r], out=term))
            torch.mul(lines[r], inside, out=term).nan_to_num_(nan=0.0, posinf=INF, neginf=-INF)
            total.add_(term)
        torch.div(total, keep, out=out)

    return run_network(updates, plan, finish, rows=rows, posinf=INF, neginf=-INF)


@aggregators.register("cm", tags={"coordinate-wise"})
class CoordinateMedian(Aggregator):
    """Coordinate-wise median (Yin et al., ICML 2018; seed 003 §II, CM).

    ``[CM(U)]_j = median_i U_ij``; for even ``n`` the average of the two middle values (as in
    seed 003's code).  No hyperparameters.  Needs ``f < n/2``.
    """

    name = "cm"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        return coordinate_median(updates)


@aggregators.register("meamed", tags={"coordinate-wise"})
class MeanAroundMedian(Aggregator):
    """Mean around median (Xie, Koyejo & Gupta, "Generalized Byzantine-tolerant SGD", 2018).

    For every coordinate j, with ``m_j`` the coordinate-wise median (as in ``cm``), average the
    ``n - f`` values ``U_ij`` closest to ``m_j``::

        [MeaMed(U)]_j = 1/(n - f) * sum_{i in N_j} U_ij,   N_j = argmin_{|N| = n-f} sum |U_ij - m_j|

    Hyperparameter: ``f`` (default 0, where it is the plain mean).  Needs ``f < n/2``.
    """

    name = "meamed"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        return mean_around_median(updates, updates.shape[0] - self.f)

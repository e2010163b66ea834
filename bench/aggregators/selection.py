"""Exact order statistics along the client axis by a pruned comparator network.

A *comparator* ``(i, j)`` with ``i < j`` replaces rows ``x_i, x_j`` of a ``[n, w]`` block by
their elementwise ``minimum`` and ``maximum``; a fixed sequence of comparators that sorts every
input is a sorting network (Knuth, TAOCP vol. 3, §5.3.4).  Batcher's odd-even merge sort
(Batcher, "Sorting networks and their applications", AFIPS 1968) gives one for any ``n``
(140 comparators for ``n = 25``).  Each comparator is two vectorized elementwise kernels over
``w`` columns, against ``torch.sort``'s general per-column sort: for the small ``n`` of
federated learning the network is several times faster on a CPU.

Most rules need a few order statistics or the *set* of middle values, not the whole order, so
the network is pruned for the outputs asked for:

1. a comparator that is the last to touch both its lines, with both lines in the same output
   group (a set whose internal order does not matter, e.g. the values a trimmed mean keeps) or
   both unneeded, only permutes within that group: dropped (repeated from the end);
2. dead-code elimination backwards from the needed output lines: a comparator whose min (max)
   output is never read again computes only its max (min); one with neither is dropped.

Minimum and maximum select one of their inputs, so every order statistic is bitwise that of
``torch.sort`` (a ``-0.0``/``+0.0`` tie may come out with either sign).  NaN must be mapped to
a number first (``torch.minimum`` propagates NaN); callers pass the same mapping as their sort
reference.  The columns are processed in blocks of :data:`BLOCK_COLUMNS` so the working
``[n, w]`` block stays in cache; each block is copied once (with the NaN mapping).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

import torch
from torch import Tensor

#: Largest row count for which the network is used (beyond it ``torch.sort`` is used).  On one
#: CPU thread (d = 2e5) the network beat the sort by 11-20x for cm, tm and meamed at every
#: n in {48, 64, 100, 128}; larger n was not measured.
NETWORK_MAX_ROWS = 128
#: Columns per block: 32768 ran fastest of 2^11..2^18 for n = 25 on a 1 MiB-L2 CPU, one thread
#: (Python dispatch dominates narrower blocks, memory traffic wider ones).
BLOCK_COLUMNS = 32768


class Step(NamedTuple):
    """One comparator of a pruned network: lines ``low < high``, which outputs are needed."""

    low: int
    high: int
    need_min: bool
    need_max: bool


def batcher_network(n: int) -> list[tuple[int, int]]:
    """Comparators ``(i, j)``, ``i < j``, of Batcher's odd-even merge sort on ``n`` lines.

    The power-of-two network restricted to the first ``n`` lines: a comparator touching a line
    ``>= n`` would face a ``+inf`` padding value and do nothing, so it is left out.
    """
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@lru_cache(maxsize=256)
def network_plan(n: int, groups: tuple[tuple[int, ...], ...]) -> tuple[Step, ...]:
    """Batcher's network on ``n`` lines pruned to deliver ``groups`` of sorted positions.

    Each group is a tuple of output positions (ranks) whose values are needed as a set; a group
    of one position is a single order statistic.  Positions in no group are not needed.
    """
    group_of = {}
    for label, members in enumerate(groups):
        for position in members:
            if not 0 <= position < n or position in group_of:
                raise ValueError(f"network_plan: bad or repeated position {position} for n={n}")
            group_of[position] = label
    unneeded = len(groups)
    kept, touched = [], set()
    for low, high in reversed(batcher_network(n)):
        final = low not in touched and high not in touched
        if final and group_of.get(low, unneeded) == group_of.get(high, unneeded):
            continue
        kept.append((low, high))
        touched.update((low, high))
    live = set(group_of)
    steps = []
    for low, high in kept:
        need_min, need_max = low in live, high in live
        if need_min or need_max:
            steps.append(Step(low, high, need_min, need_max))
            live.update((low, high))
    return tuple(reversed(steps))


def use_network(updates: Tensor) -> bool:
    """Whether the network beats ``torch.sort`` here: CPU tensors with ``2 <= n <= 128`` rows."""
    return updates.device.type == "cpu" and 2 <= updates.shape[0] <= NETWORK_MAX_ROWS


Finish = Callable[[Sequence[Tensor], Tensor], None]


def run_network(
    updates: Tensor,
    steps: Sequence[Step],
    finish: Finish,
    *,
    rows: Tensor | None = None,
    nan: float = float("inf"),
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """Apply ``steps`` to every block of columns of ``updates`` and ``finish`` each block.

    ``rows`` (optional ``LongTensor[m]``) selects the rows the network runs on without copying
    the whole matrix.  NaN, ``+inf`` and ``-inf`` are mapped as in ``torch.nan_to_num`` with
    the given values.  ``finish(lines, out)`` receives the ``m`` lines (line ``k`` holds rank
    ``k`` for every position the plan delivers) and writes the block's result into ``out``.
    Returns ``Tensor[d]``.
    """
    d = updates.shape[1]
    m = updates.shape[0] if rows is None else rows.numel()
    width = min(d, BLOCK_COLUMNS)
    block = updates.new_empty((m, width))
    spare_row = updates.new_empty(width)
    out = updates.new_empty(d)
    for start in range(0, d, width):
        stop = min(start + width, d)
        w = stop - start
        work = block[:, :w]
        source = updates[:, start:stop]
        if rows is not None:
            torch.index_select(source, 0, rows, out=work)
            torch.nan_to_num(work, nan=nan, posinf=posinf, neginf=neginf, out=work)
        else:
            torch.nan_to_num(source, nan=nan, posinf=posinf, neginf=neginf, out=work)
        lines = list(work.unbind(0))
        spare = spare_row[:w]
        for low, high, need_min, need_max in steps:
            a, b = lines[low], lines[high]
            if need_min and need_max:
                torch.minimum(a, b, out=spare)
                torch.maximum(a, b, out=b)
                lines[low], spare = spare, a
            elif need_min:
                torch.minimum(a, b, out=a)
            else:
                torch.maximum(a, b, out=b)
        finish(lines, out[start:stop])
    return out

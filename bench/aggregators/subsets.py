"""Exhaustive search over the ``n - f``-row subsets of an update matrix (MDA, SMEA).

Subsets are enumerated through the ``f`` rows they leave out, as a ``[C, n]`` boolean mask of
kept rows, ``C = binom(n, f)``, in lexicographic order of the left-out rows; rules score every
mask in chunks and keep the lowest score (ties: the first mask).  Enumeration is refused
beyond :data:`MAX_SUBSETS` subsets, with an error naming ``n`` and ``f``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

MAX_SUBSETS = 1_000_000
CHUNK = 4096


def subset_masks(n: int, f: int, who: str, device: torch.device) -> Iterator[Tensor]:
    """Chunks of ``[c, n]`` masks of the rows kept when leaving out ``f`` of ``n`` rows."""
    count = math.comb(n, f)
    if count > MAX_SUBSETS:
        raise ValueError(
            f"{who}: enumerates binom(n, f) = binom({n}, {f}) = {count} subsets, more than "
            f"the limit of {MAX_SUBSETS}; use a smaller f or n"
        )
    left_out = itertools.combinations(range(n), f)
    while True:
        chunk = list(itertools.islice(left_out, CHUNK))
        if not chunk:
            return
        mask = torch.ones(len(chunk), n, dtype=torch.bool, device=device)
        if f:
            mask.scatter_(1, torch.tensor(chunk, device=device), False)
        yield mask


def best_subset(n: int, f: int, who: str, device: torch.device,
                score: Callable[[Tensor], Tensor]) -> Tensor:
    """The kept-row mask ``Tensor[n]`` of lowest ``score`` (``[c, n] masks -> [c] scores``)."""
    best_value, best_mask = math.inf, None
    for masks in subset_masks(n, f, who, device):
        values = score(masks)
        i = int(values.argmin())
        if best_mask is None or float(values[i]) < best_value:
            best_value, best_mask = float(values[i]), masks[i]
    assert best_mask is not None
    return best_mask

"""Sequential centered clipping: centered clipping applied bucket after bucket."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.aggregators.base import (
    Aggregator,
    call_generator,
    check_int,
    check_positive,
    finite_rows,
)
from bench.aggregators.clipping import clip_to_radius
from bench.registry import aggregators


def similarity_buckets(updates: Tensor, reference: Tensor, size: int,
                       generator: torch.Generator) -> list[Tensor]:
    """Row indices of ``ceil(n / size)`` buckets that each mix rows of every similarity level.

    Rows are sorted by cosine similarity to ``reference`` (a random order when it is zero),
    the sorted list is cut into ``size`` consecutive groups, and each group's rows go to
    distinct buckets through a random permutation.
    """
    n = updates.shape[0]
    count = math.ceil(n / size)
    if bool(reference.abs().sum() > 0):
        units = updates / updates.norm(dim=1, keepdim=True).clamp_min(1e-30)
        similarity = (units @ (reference / reference.norm())).nan_to_num(nan=-2.0)
        order = similarity.argsort(stable=True).cpu()
    else:
        order = torch.randperm(n, generator=generator)
    buckets: list[list[int]] = [[] for _ in range(count)]
    for group in torch.tensor_split(order, size):
        slots = torch.randperm(count, generator=generator)[: len(group)]
        for slot, row in zip(slots.tolist(), group.tolist(), strict=True):
            buckets[slot].append(row)
    return [torch.tensor(b, dtype=torch.long) for b in buckets if b]


@aggregators.register("seqclip", tags={"clipping", "stateful", "randomized", "row-order"})
class SequentialCenteredClipping(Aggregator):
    """Sequential centered clipping (Özfatura, Özfatura, Küpçü & Gündüz, "Byzantines can also
    learn from history: fall of centered clipping in federated learning", IEEE TIFS 2024,
    §VI; the authors' ``Clipping_seq``).

    The previous aggregate ``v`` (zeros at first) is refined bucket by bucket::

        for each bucket B:   v <- v + (1/|B|) sum_{i in B} clip(u_i - v, tau)

    with ``clip(x, tau) = x min(1, tau / ||x||)``, and ``v`` is kept for the next round.
    Buckets of about ``size`` rows (default 3) mix rows of every level of cosine similarity to
    ``v`` (:func:`similarity_buckets`; random on the first round), so that a later bucket is
    clipped around a reference the earlier ones already moved.  Hyperparameters: ``tau``
    (default 1.0, as ``cc``), ``size``, ``seed`` (default 0): the i-th call draws from
    :func:`~bench.aggregators.base.call_generator` ``(seed, i)``.  The bucket draw depends on
    row positions, so the rule is not invariant to row order.  ``f`` is not used.
    Non-finite rows are replaced by the current ``v`` (they contribute nothing).
    :meth:`reset` zeroes ``v`` and restarts the draws.

    >>> import torch
    >>> SequentialCenteredClipping(tau=1.0, size=1)(torch.tensor([[4.0, 0.0]]))
    tensor([1., 0.])
    """

    name = "seqclip"

    def __init__(self, f: int = 0, tau: float = 1.0, size: int = 3, seed: int = 0) -> None:
        super().__init__(f)
        self.tau = check_positive(tau, "tau", "seqclip")
        self.size = check_int(size, "size", "seqclip", 1)
        self.seed = check_int(seed, "seed", "seqclip", 0)
        self.reference: Tensor | None = None
        self.calls = 0

    def aggregate(self, updates: Tensor) -> Tensor:
        v = self.reference
        if v is None or v.shape[0] != updates.shape[1]:
            v = torch.zeros(updates.shape[1], dtype=updates.dtype, device=updates.device)
        finite = finite_rows(updates)
        generator = call_generator(self.seed, self.calls)
        self.calls += 1
        for bucket in similarity_buckets(updates, v, self.size, generator):
            rows = updates[bucket.to(updates.device)]
            rows = torch.where(finite[bucket.to(updates.device)][:, None], rows, v)
            v = v + clip_to_radius(rows - v, self.tau).mean(dim=0)
        self.reference = v.detach().clone()
        return v

    def reset(self) -> None:
        self.reference = None
        self.calls = 0

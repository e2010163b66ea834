"""Per-client minibatch streams: each client cycles through reshuffled passes of its shard."""

from __future__ import annotations

import torch
from torch import Tensor


class ClientSampler:
    """Draws one minibatch of indices per client per round, as ``Tensor[n, B]``.

    Each client walks through a seeded random permutation of its own shard and reshuffles when
    it runs out, so within a local epoch no sample repeats (a client whose shard is smaller than
    ``B`` wraps into its next permutation).
    """

    def __init__(self, shards: list[Tensor], batch_size: int, seed: int) -> None:
        if any(len(s) == 0 for s in shards):
            raise ValueError("every client needs at least one sample")
        self.shards = [s.cpu() for s in shards]
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self._queues = [torch.empty(0, dtype=torch.int64) for _ in shards]

    def _take(self, client: int) -> Tensor:
        queue = self._queues[client]
        while queue.numel() < self.batch_size:
            shard = self.shards[client]
            queue = torch.cat([queue, shard[torch.randperm(len(shard), generator=self.generator)]])
        self._queues[client] = queue[self.batch_size :]
        return queue[: self.batch_size]

    def next(self, clients: list[int] | None = None) -> Tensor:
        """One minibatch for each of ``clients`` (default: every client), ``Tensor[m, B]``."""
        chosen = range(len(self.shards)) if clients is None else clients
        return torch.stack([self._take(c) for c in chosen])

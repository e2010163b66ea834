"""Weak differential privacy: norm clipping, averaging, then Gaussian noise."""

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
    zero_rows,
)
from bench.aggregators.clipping import clip_to_radius
from bench.registry import aggregators


@aggregators.register("weakdp", tags={"clipping", "randomized", "noise"})
class WeakDifferentialPrivacy(Aggregator):
    """Weak differential privacy (Sun, Kairouz, Suresh & McMahan, "Can you really backdoor
    federated learning?", 2019, §4; FedML's ``weak_dp``).

    ::

        agg(U) = (1/n) sum_i u_i / max(1, ||u_i|| / bound) + N(0, std^2 I)

    "Weak" because ``std`` is far below what a formal privacy guarantee would need; the noise
    blurs the fine-tuned direction a backdoor needs.  Hyperparameters: ``bound`` (default
    1.0), ``std`` (default 0.025, Sun et al.'s sigma, here on the update: the model moves by
    ``lr`` times it), ``seed`` (default 0): the i-th call draws from
    :func:`~bench.aggregators.base.call_generator` ``(seed, i)``; :meth:`reset` restarts the
    count.  ``f`` is not used.  A row with a NaN or Inf entry counts as the zero vector.

    >>> import torch
    >>> WeakDifferentialPrivacy(bound=2.0, std=0.0)(torch.tensor([[6.0, 8.0], [0.0, 1.0]]))
    tensor([0.6000, 1.3000])
    """

    name = "weakdp"

    def __init__(self, f: int = 0, bound: float = 1.0, std: float = 0.025, seed: int = 0) -> None:
        super().__init__(f)
        self.bound = check_positive(bound, "bound", "weakdp")
        if isinstance(std, bool) or not isinstance(std, (int, float)) or not 0 <= std < math.inf:
            raise ValueError(f"weakdp: std must be a finite number >= 0, got {std!r}")
        self.std = float(std)
        self.seed = check_int(seed, "seed", "weakdp", 0)
        self.calls = 0

    def aggregate(self, updates: Tensor) -> Tensor:
        safe = zero_rows(updates, finite_rows(updates))
        out = clip_to_radius(safe, self.bound).mean(dim=0)
        generator = call_generator(self.seed, self.calls)
        self.calls += 1
        if self.std > 0:
            draw = torch.randn(out.shape, generator=generator, dtype=out.dtype)
            out = out + self.std * draw.to(out.device)
        return out

    def reset(self) -> None:
        self.calls = 0

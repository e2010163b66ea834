"""The attack contract: what a Byzantine client sees and what it must return.

Update attacks forge the ``f`` Byzantine rows of the update matrix from an
:class:`AttackContext`.  Data attacks (tag ``data``) instead change the Byzantine clients' labels
or gradients and let them run the honest protocol on their own shards; the simulator then passes
their resulting updates in ``ctx.byzantine`` and the attack returns those.

Tags say what an attack needs:
``omniscient`` (sees the honest updates of the round), ``aggregator-aware`` (is given the
defense as ``ctx.aggregator``, a probe that does not change the defense's state), ``data`` (acts
on the Byzantine clients' data or gradients), ``reference`` (uses the previous aggregate, which
any client can recover from two broadcast models and the step size), ``sparse`` (needs
``ctx.param_mask``, which the simulator builds with ``bench.models.masks.sparse_mask``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class AttackContext:
    """Everything one round offers the adversary.

    Attributes:
        honest: honest clients' updates of this round, ``Tensor[n - f, d]``.
        n: number of clients; ``f``: number of Byzantine clients.
        round: 1-based round index ``t``.
        previous_aggregate: the server's aggregate of round ``t - 1`` (``None`` at ``t = 1``).
        byzantine: the Byzantine clients' own protocol updates ``Tensor[f, d]`` (data attacks).
        aggregator: callable running the configured defense on a ``Tensor[m, d]`` without
            changing its state (aggregator-aware attacks only).
        param_mask: boolean ``Tensor[d]`` marking first-layer, normalisation and bias
            parameters of the model (sparse attacks).
        generator: random generator on the update device, seeded from the training seed.
    """

    honest: Tensor
    n: int
    f: int
    round: int
    previous_aggregate: Tensor | None = None
    byzantine: Tensor | None = None
    aggregator: Callable[[Tensor], Tensor] | None = None
    param_mask: Tensor | None = None
    generator: torch.Generator | None = None

    @property
    def honest_mean(self) -> Tensor:
        return self.honest.mean(dim=0)


def probe(aggregator: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """Wrap a (possibly stateful) aggregator so that calling it leaves its state untouched."""

    def run(updates: Tensor) -> Tensor:
        return copy.deepcopy(aggregator)(updates)

    return run


class Attack:
    """Base class of Byzantine attacks.

    Update attacks implement :meth:`forge`.  Data attacks set ``acts_on_data = True`` and
    override :meth:`poison_batch`, :meth:`poison_labels` and/or
    :meth:`poison_gradients`; their default
    :meth:`forge` returns the Byzantine clients' own updates.  Per-round diagnostics go through
    :meth:`log` and are averaged into the run's record.
    """

    name = "attack"
    acts_on_data = False

    def __init__(self) -> None:
        self.diagnostics: dict[str, list[float]] = {}

    def __call__(self, ctx: AttackContext) -> Tensor:
        if ctx.f == 0:
            return ctx.honest.new_zeros((0, ctx.honest.shape[1]))
        forged = self.forge(ctx)
        expected = (ctx.f, ctx.honest.shape[1])
        if tuple(forged.shape) != expected:
            raise ValueError(
                f"attack {self.name} returned {tuple(forged.shape)}, expected {expected}"
            )
        return forged

    def forge(self, ctx: AttackContext) -> Tensor:
        if self.acts_on_data:
            if ctx.byzantine is None:
                raise ValueError(f"data attack {self.name} needs the Byzantine clients' updates")
            return ctx.byzantine
        raise NotImplementedError

    def poison_batch(self, x: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
        """Inputs ``[m, B, *input]`` and labels ``[m, B]`` the ``m`` participating Byzantine
        clients train on (backdoors, :mod:`bench.attacks.backdoor`); unchanged by default."""
        return x, y

    def poison_labels(self, labels: Tensor, num_classes: int) -> Tensor:
        """Labels the Byzantine clients train on (data attacks)."""
        return labels

    def poison_gradients(self, gradients: Tensor) -> Tensor:
        """Gradients ``Tensor[f, d]`` the Byzantine clients feed their momentum (data attacks)."""
        return gradients

    def log(self, key: str, value: float) -> None:
        """Record one per-round diagnostic value (averaged over rounds in the record)."""
        self.diagnostics.setdefault(key, []).append(float(value))

    def reset(self) -> None:
        """Forget state kept across rounds."""
        self.diagnostics = {}


def repeat_rows(vector: Tensor, f: int) -> Tensor:
    """All ``f`` Byzantine clients send the same vector (seed 003's setting)."""
    return vector.unsqueeze(0).expand(f, -1).clone()


def require_aggregator(ctx: AttackContext, who: str) -> Callable[[Tensor], Tensor]:
    """``ctx.aggregator``, or a clear error for an aggregator-aware attack run without it."""
    if ctx.aggregator is None:
        raise ValueError(
            f"attack {who} is aggregator-aware and needs ctx.aggregator (the defense probe); "
            "got None"
        )
    return ctx.aggregator


def mean_centred_sq_distances(updates: Tensor) -> Tensor:
    """``D[i, j] = ||u_i - u_j||^2`` for the rows of ``Tensor[m, d]``, vectorized.

    Rows are centred first so that a large shared component does not cancel catastrophically
    in ``||a||^2 + ||b||^2 - 2<a, b>``; the result is symmetric with a zero diagonal.
    """
    centred = updates - updates.mean(dim=0, keepdim=True)
    sq = (centred * centred).sum(dim=1)
    d = (sq[:, None] + sq[None, :] - 2.0 * centred @ centred.T).clamp_min(0.0)
    d = 0.5 * (d + d.T)
    return d.fill_diagonal_(0.0)


def cosine(a: Tensor, b: Tensor) -> float:
    """Cosine similarity of two vectors (0 when either is zero)."""
    denom = a.norm() * b.norm()
    return float((a @ b) / denom) if denom > 0 else 0.0

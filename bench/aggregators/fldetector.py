"""FLDetector: flag clients whose updates stray from an L-BFGS prediction of them."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.aggregators.base import (
    Aggregator,
    call_generator,
    check_int,
    finite_rows,
    zero_rows,
)
from bench.aggregators.lbfgs import lbfgs_hessian_product
from bench.aggregators.median import coordinate_median
from bench.registry import aggregators


def two_means_split(values: Tensor) -> tuple[float, Tensor]:
    """Exact 1-D 2-means: ``(within-cluster sum of squares, mask of the upper cluster)``."""
    ordered, order = values.double().sort()
    best, cut = math.inf, 1
    for k in range(1, len(ordered)):
        low, high = ordered[:k], ordered[k:]
        w = float((low - low.mean()).pow(2).sum() + (high - high.mean()).pow(2).sum())
        if w < best:
            best, cut = w, k
    upper = torch.zeros(len(values), dtype=torch.bool)
    upper[order[cut:].cpu()] = True
    return best, upper


def spread(values: Tensor) -> float:
    return float((values.double() - values.double().mean()).pow(2).sum())


def gap_says_two_clusters(values: Tensor, references: int, generator: torch.Generator) -> bool:
    """Gap statistic (Tibshirani, Walther & Hastie, JRSS-B 2001) for k in {1, 2}: true when
    ``Gap(1) < Gap(2) - s_2``, with ``references`` uniform samples on ``[min, max]``."""
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return False
    log_w = torch.tensor([math.log(spread(values)), math.log(two_means_split(values)[0])])
    ref = torch.empty(references, 2, dtype=torch.float64)
    for b in range(references):
        sample = lo + (hi - lo) * torch.rand(len(values), generator=generator, dtype=torch.float64)
        ref[b, 0] = math.log(max(spread(sample), 1e-300))
        ref[b, 1] = math.log(max(two_means_split(sample)[0], 1e-300))
    gap = ref.mean(dim=0) - log_w
    s2 = float(ref[:, 1].std(correction=0)) * math.sqrt(1.0 + 1.0 / references)
    return bool(gap[0] < gap[1] - s2)


@aggregators.register("fldetector", tags={"stateful", "client-identity", "detection", "randomized"})
class FLDetector(Aggregator):
    """FLDetector (Zhang, Cao, Jia & Gong, "FLDetector: Defending federated learning against
    model poisoning attacks via detecting malicious clients", KDD 2022, Algorithm 2).

    Row ``i`` is client ``i``: the simulator passes every round's rows in fixed client order
    (honest first, then Byzantine), once per round.  With ``g_bar^t`` the aggregate of round
    ``t``, the model moves by ``w_t - w_{t-1} = -eta g_bar^{t-1}``; the instance keeps the
    last ``window`` pairs ``(-g_bar^{k-1}, g_bar^k - g_bar^{k-1})`` (``eta`` cancels, see
    :mod:`bench.aggregators.lbfgs`) and predicts each client's update::

        g_hat_i^t = g_i^{t-1} + B_t (w_t - w_{t-1}),    d_i^t = ||g_hat_i^t - g_i^t||

    Scores are normalised, ``d_i^t / sum_j d_j^t``, and averaged over the last ``window``
    rounds.  Once ``window`` scores exist, the gap statistic decides whether they form more
    than one cluster; if so, 1-D 2-means splits them and the upper cluster, when it is a
    minority (the paper's assumption on the malicious clients), is flagged once for the rest
    of the run (the paper restarts training without them; re-flagging every round would let
    the noisier honest clients be removed group after group).  The output is the
    coordinate-wise median of the finite rows of unflagged clients (of all finite rows when
    every client is flagged).  Hyperparameters: ``window`` (N, default 10, the paper's),
    ``references`` (gap-statistic samples, default 20), ``seed`` (default 0): the i-th call
    draws from :func:`~bench.aggregators.base.call_generator` ``(seed, i)``.  ``f`` is not
    used.  A row with a NaN or Inf entry scores 1 (the largest normalised score) and is never
    aggregated.  Needs ``f < n/2``.  :meth:`reset` forgets everything; a different ``n``
    than the history's is an error.

    >>> import torch
    >>> FLDetector()(torch.tensor([[0.0, 1.0], [1.0, 2.0], [5.0, 0.0]]))
    tensor([1., 1.])
    """

    name = "fldetector"
    needs_majority = True

    def __init__(self, f: int = 0, window: int = 10, references: int = 20, seed: int = 0) -> None:
        super().__init__(f)
        self.window = check_int(window, "window", "fldetector", 1)
        self.references = check_int(references, "references", "fldetector", 2)
        self.seed = check_int(seed, "seed", "fldetector", 0)
        self.reset()

    def reset(self) -> None:
        self.calls = 0
        self.previous_updates: Tensor | None = None
        self.previous_aggregate: Tensor | None = None
        self.steps: list[Tensor] = []
        self.changes: list[Tensor] = []
        self.scores: list[Tensor] = []
        self.flagged: Tensor | None = None

    def suspicion(self, safe: Tensor, finite: Tensor) -> Tensor:
        """This round's normalised distances to the predicted updates (``Tensor[n]``)."""
        assert self.previous_updates is not None and self.previous_aggregate is not None
        move = lbfgs_hessian_product(self.steps, self.changes, -self.previous_aggregate)
        distances = (self.previous_updates + move - safe).norm(dim=1).double()
        distances = torch.where(finite, distances, 0.0)
        total = float(distances.sum())
        normalised = distances / total if total > 0 else distances
        return torch.where(finite, normalised, 1.0).cpu()

    def aggregate(self, updates: Tensor) -> Tensor:
        n = updates.shape[0]
        if self.flagged is None:
            self.flagged = torch.zeros(n, dtype=torch.bool)
        elif len(self.flagged) != n:
            raise ValueError(
                f"fldetector: tracks {len(self.flagged)} clients, got {n} updates; call reset() "
                "between runs"
            )
        finite = finite_rows(updates)
        safe = zero_rows(updates, finite)
        generator = call_generator(self.seed, self.calls)
        self.calls += 1
        if self.previous_updates is not None and self.steps:
            self.scores = (self.scores + [self.suspicion(safe, finite)])[-self.window :]
            if len(self.scores) == self.window and not bool(self.flagged.any()):
                mean_scores = torch.stack(self.scores).mean(dim=0)
                if gap_says_two_clusters(mean_scores, self.references, generator):
                    upper = two_means_split(mean_scores)[1]
                    if 2 * int(upper.sum()) < n:
                        self.flagged = upper
        keep = finite & ~self.flagged.to(finite.device)
        out = coordinate_median(updates[keep if bool(keep.any()) else finite])
        if self.previous_aggregate is not None:
            self.steps = (self.steps + [-self.previous_aggregate])[-self.window :]
            self.changes = (self.changes + [out.detach() - self.previous_aggregate])[-self.window :]
        self.previous_aggregate = out.detach().clone()
        self.previous_updates = safe.detach().clone()
        return out

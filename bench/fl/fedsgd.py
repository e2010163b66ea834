"""Protocol ``fedsgd``: seed 003's Algorithm 1, one minibatch step per client per round.

Each round ``t``:

1. every honest client ``i`` takes one minibatch gradient ``g_i`` at the broadcast model and
   updates its worker momentum ``m_i <- beta m_i + (1 - beta) g_i``;
2. the ``f`` Byzantine clients send ``Attack(H_t)`` (data attacks: their own momenta computed on
   poisoned inputs, labels or gradients);
3. the server aggregates ``m~_t = AGG(m_1..m_n)`` and steps ``theta <- theta - eta_t m~_t``, with
   ``eta_t = lr * lr_gamma^(number of milestones passed)``.

One epoch is ``N / (n B)`` rounds; test accuracy is measured after each whole epoch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.fl.protocol import FederatedProtocol
from bench.fl.settings import FedSGDSettings
from bench.fl.simulation import FederatedRun, RoundUpdates, simulate_rounds
from bench.registry import protocols
from bench.run import Outcome, Progress, Seeds
from bench.scenario import Scenario

DEFAULT_SEEDS = Seeds()


class FedSGD(FederatedRun):
    """One simulated run of Algorithm 1, advanced a round at a time with :meth:`step`."""

    settings: FedSGDSettings

    def __init__(self, scenario: Scenario, seeds: Seeds = DEFAULT_SEEDS, device: str = "cpu",
                 aggregator: Aggregator | None = None) -> None:
        super().__init__(scenario, seeds, torch.device(device), aggregator)
        d = self.theta.numel()
        self.momenta = torch.zeros(len(self.active), d, device=self.device)
        self.server_momentum = torch.zeros(d, device=self.device)

    @property
    def rounds_per_epoch(self) -> float:
        return self.pool_size / (self.settings.n * self.settings.batch_size)

    def updates(self, lr: float) -> RoundUpdates:
        x, y = self.client_batches()
        return self.absorb(self.engine(self.params(), x, y))

    def client_batches(self) -> tuple[Tensor, Tensor]:
        """This round's minibatch of every active client, ``x[m, B, ...]`` and ``y[m, B]``
        (data attackers' labels already poisoned)."""
        x, y = self.minibatch(self.sampler.next())
        if self.poisoned:
            h = self.honest_count
            x[h:], y[h:] = self.attack.poison_batch(x[h:], y[h:], self.data.num_classes)
            y[h:] = self.attack.poison_labels(y[h:], self.data.num_classes)
        return x, y

    def absorb(self, grads: Tensor) -> RoundUpdates:
        """Fold the clients' gradients ``grads[m, d]`` at the broadcast model into their worker
        momenta ``m_i <- beta m_i + (1 - beta) g_i`` (data attackers' gradients poisoned
        first)."""
        sc, h = self.settings, self.honest_count
        if self.poisoned:
            grads[h:] = self.attack.poison_gradients(grads[h:])
        self.momenta.mul_(sc.beta).add_(grads, alpha=1 - sc.beta)
        byzantine = self.momenta[h:] if self.attack.acts_on_data else None
        return RoundUpdates(self.momenta[:h], byzantine, sc.f)

    def server_update(self, lr: float) -> Tensor | None:
        if self.root_sampler is None:
            return None
        xr, yr = self.minibatch(self.root_sampler.next())
        beta = self.settings.beta
        self.server_momentum.mul_(beta).add_(self.engine(self.params(), xr, yr)[0],
                                             alpha=1 - beta)
        return self.server_momentum

    def apply(self, aggregate: Tensor, lr: float) -> None:
        self.theta = self.theta - lr * aggregate


@protocols.register("fedsgd")
class FedSGDProtocol(FederatedProtocol):
    """Seed 003's Algorithm 1: one minibatch gradient per client per round, worker momentum."""

    name = "fedsgd"
    settings = FedSGDSettings

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None,
                aggregator: Aggregator | None = None) -> Outcome:
        return simulate_rounds(FedSGD(scenario, seeds, str(device), aggregator), progress)

"""Protocol ``fedavg``: local steps on every participating client, model deltas aggregated.

McMahan et al., *Communication-efficient learning of deep networks from decentralized data*
(AISTATS 2017), with partial participation and a server learning rate.  Each round ``t``:

1. the server samples ``m = round(participation * n)`` of the ``n`` clients uniformly without
   replacement (seeded; Byzantine clients are sampled like honest ones);
2. every sampled honest client starts from the broadcast ``theta`` and takes ``K`` minibatch
   steps ``theta_i <- theta_i - eta_t v_i`` with local momentum ``v_i <- mu v_i + g_i``
   (``v_i = g_i`` when ``mu = 0``; ``v`` restarts each round), and sends its model delta
   ``Delta_i = theta_i - theta``;
3. the sampled Byzantine clients send ``Attack(H_t)`` built from the honest deltas (data
   attacks: their own deltas after local training on poisoned data);
4. the server steps ``theta <- theta + eta_s AGG(Delta)``.

One epoch is ``N / (n B K)`` rounds (every sample seen once in expectation at full
participation).  With ``K = 1``, full participation, ``mu = 0`` and ``eta_s = 1`` this is
FedSGD without momentum: ``Delta_i = -eta_t g_i``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.fl.protocol import FederatedProtocol
from bench.fl.settings import FedAvgSettings, FederatedSettings
from bench.fl.simulation import FederatedRun, RoundUpdates, simulate_rounds
from bench.registry import protocols
from bench.run import Grouping, Outcome, Progress, Seeds
from bench.scenario import Scenario

DEFAULT_SEEDS = Seeds()


class FedAvg(FederatedRun):
    """One simulated FedAvg run; clients' local models live along a client axis."""

    settings: FedAvgSettings

    def __init__(self, scenario: Scenario, seeds: Seeds = DEFAULT_SEEDS, device: str = "cpu",
                 aggregator: Aggregator | None = None) -> None:
        super().__init__(scenario, seeds, torch.device(device), aggregator)
        self.participation = torch.Generator().manual_seed(seeds.train + 3)

    @property
    def rounds_per_epoch(self) -> float:
        sc = self.settings
        return self.pool_size / (sc.n * sc.batch_size * sc.local_steps)

    def sample_clients(self) -> list[int]:
        """Sorted ids of this round's participants (honest ids are ``< n - f``)."""
        sc = self.settings
        if sc.sampled == sc.n:
            return list(range(sc.n))
        return sorted(torch.randperm(sc.n, generator=self.participation)[: sc.sampled].tolist())

    def local_deltas(self, clients: list[int], sampler, lr: float, poisoned: int = 0) -> Tensor:
        """``K`` local steps of each of ``clients`` (indices into ``sampler``'s shards) from
        ``theta``; the last ``poisoned`` of them train on the data attack's batches,
        labels and gradients.  Returns the deltas ``Tensor[len(clients), d]``."""
        sc = self.settings
        start = self.theta.unsqueeze(0).expand(len(clients), -1)
        local = start.clone()
        velocity = torch.zeros_like(local)
        for _ in range(sc.local_steps):
            x, y = self.minibatch(sampler.next(clients))
            if poisoned:
                x[-poisoned:], y[-poisoned:] = self.attack.poison_batch(
                    x[-poisoned:], y[-poisoned:], self.data.num_classes)
                y[-poisoned:] = self.attack.poison_labels(y[-poisoned:], self.data.num_classes)
            grads = self.engine.local(self.params(local), x, y)
            if poisoned:
                grads[-poisoned:] = self.attack.poison_gradients(grads[-poisoned:])
            if sc.local_momentum:
                velocity.mul_(sc.local_momentum).add_(grads)
                grads = velocity
            local = local - lr * grads
        return local - start

    def updates(self, lr: float) -> RoundUpdates:
        h = self.honest_count
        clients = self.sample_clients()
        honest = [c for c in clients if c < h]
        byzantine = [c for c in clients if c >= h]
        if self.poisoned:
            deltas = self.local_deltas(honest + byzantine, self.sampler, lr, len(byzantine))
            return RoundUpdates(deltas[: len(honest)], deltas[len(honest):], len(byzantine))
        return RoundUpdates(self.local_deltas(honest, self.sampler, lr), None, len(byzantine))

    def server_update(self, lr: float) -> Tensor | None:
        if self.root_sampler is None:
            return None
        return self.local_deltas([0], self.root_sampler, lr)[0]

    def apply(self, aggregate: Tensor, lr: float) -> None:
        self.theta = self.theta + self.settings.server_lr * aggregate


@protocols.register("fedavg")
class FedAvgProtocol(FederatedProtocol):
    """FedAvg: K local steps per sampled client, model deltas aggregated, server step."""

    name = "fedavg"
    settings = FedAvgSettings
    grouping = Grouping(groups=("dataset", "split", "model", "n", "f", "local_steps",
                                "participation"), secondary=("attack_success_rate",))

    def participants(self, settings: FederatedSettings) -> int:
        return settings.sampled  # type: ignore[attr-defined]

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None,
                aggregator: Aggregator | None = None) -> Outcome:
        return simulate_rounds(FedAvg(scenario, seeds, str(device), aggregator), progress)

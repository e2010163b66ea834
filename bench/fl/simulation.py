"""What the federated protocols share: clients and their data, the server model, the defense
and the attack, one aggregation step, evaluation, and the round loop with its timing.

A protocol subclasses :class:`FederatedRun` and implements :meth:`FederatedRun.updates` (the
honest rows and, for data attacks, the Byzantine clients' own rows of one round) and
:meth:`FederatedRun.apply` (the server step with the aggregate).  :func:`simulate_rounds` plays
the rounds, evaluates after each epoch and returns the :class:`~bench.run.Outcome`.

The last ``f`` clients of the random partition are the Byzantine ones (a uniformly random
choice); honest rows come first in every update matrix, so row index is client identity for
rules that keep per-client history.  A non-finite aggregate or model ends the run as
*diverged* at chance accuracy.  Each round also times the plain mean on the same update matrix
(phase ``mean_aggregation``), so a case can bound its defense's cost relative to the mean's as
measured in the same run.
Backdoor attacks (:mod:`bench.attacks.backdoor`) also get their *attack success rate* measured
at each evaluation: the fraction of the triggered non-target test inputs the server model
classifies as the attacker's target (chance, ``1/C``, once diverged); it is ``None`` for every
other attack.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, Pipeline
from bench.attacks.backdoor import Backdoor
from bench.attacks.base import AttackContext, probe
from bench.data.partition import class_histograms
from bench.fl.build import build_attack, build_defense, build_model, choose_engine, load_dataset
from bench.fl.engines import engines
from bench.fl.evaluate import accuracy, recalibrate_batchnorm
from bench.fl.sampler import ClientSampler
from bench.fl.settings import FederatedSettings
from bench.registry import attacks, partitioners
from bench.run import Outcome, Progress, Seeds
from bench.scenario import Scenario


def innermost(aggregator: Aggregator) -> Aggregator:
    """The aggregator behind a pipeline's pre-aggregators (the rule that holds FLTrust's root)."""
    return aggregator.aggregator if isinstance(aggregator, Pipeline) else aggregator


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class RoundUpdates:
    """One round's rows before the attack: honest updates and the Byzantine clients' own
    updates (data attacks only), with the count of participating Byzantine clients."""

    honest: Tensor
    byzantine: Tensor | None
    f: int


class FederatedRun:
    """Set-up and per-round mechanics of a federated run; see the module docstring."""

    def __init__(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                 aggregator: Aggregator | None = None) -> None:
        self.scenario, self.seeds, self.device = scenario, seeds, device
        sc: FederatedSettings = scenario.settings  # type: ignore[assignment]
        self.settings = sc
        torch.manual_seed(seeds.train)  # the model's initialization
        data = load_dataset(scenario.dataset).subset_train(sc.max_train, seeds.split)
        self.attack = build_attack(scenario.attack)
        self.defense = aggregator if aggregator is not None else build_defense(
            scenario.defense, sc.f)
        self.defense.reset()
        self.attack.reset()

        root_size = int(getattr(innermost(self.defense), "root_size", 0))
        split_gen = torch.Generator().manual_seed(seeds.split)
        order = torch.randperm(data.y_train.shape[0], generator=split_gen)
        self.pool_size = data.y_train.shape[0] - root_size
        root_idx, pool_idx = order[self.pool_size:], order[: self.pool_size]
        splitter = partitioners.make(sc.split.name, **sc.split.params)
        self.shards = [pool_idx[s] for s in splitter(data.y_train[pool_idx], sc.n, seeds.split)]
        self.honest_count = sc.n - sc.f
        self.active = self.shards if self.attack.acts_on_data else self.shards[: self.honest_count]
        self.sampler = ClientSampler(self.active, sc.batch_size, seeds.train)
        self.root_sampler = (
            ClientSampler([root_idx], sc.batch_size, seeds.train + 1) if root_size else None
        )

        self.data = data.to(device)
        self.model = build_model(scenario.model, self.data).to(device)
        self.engine_name = choose_engine(sc.engine, self.model, device)
        self.engine = engines.make(self.engine_name, model=self.model)
        self._names = [n for n, _ in self.model.named_parameters()]
        self._shapes = [p.shape for _, p in self.model.named_parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()])
        self.generator = torch.Generator(device=device).manual_seed(seeds.train)
        self.eval_generator = torch.Generator(device=device).manual_seed(seeds.train + 2)
        self._attack_tags = attacks.tags(scenario.attack.name)
        self.param_mask = None
        if "sparse" in self._attack_tags:
            from bench.models.masks import sparse_mask

            self.param_mask = sparse_mask(self.model).to(device)
        self.triggered = (
            self.attack.triggered_test(self.data.x_test, self.data.y_test, self.data.num_classes)
            if isinstance(self.attack, Backdoor) else None)
        self.previous: Tensor | None = None
        self.round = 0
        self.seconds = {"clients": 0.0, "attack": 0.0, "aggregation": 0.0,
                        "mean_aggregation": 0.0}

    # --- what a protocol provides -----------------------------------------------------------

    @property
    def rounds_per_epoch(self) -> float:
        raise NotImplementedError

    def updates(self, lr: float) -> RoundUpdates:
        """Compute this round's honest rows (and data attackers' own rows)."""
        raise NotImplementedError

    def server_update(self, lr: float) -> Tensor | None:
        """The server's own update on its root set (FLTrust), or ``None`` without one."""
        return None

    def apply(self, aggregate: Tensor, lr: float) -> None:
        """Move ``theta`` with the (finite) aggregate."""
        raise NotImplementedError

    # --- shared mechanics -------------------------------------------------------------------

    def params(self, theta: Tensor | None = None) -> dict[str, Tensor]:
        """``theta`` (default: the server model) viewed as the model's named parameters."""
        theta = self.theta if theta is None else theta
        lead = theta.shape[:-1]
        chunks = torch.split(theta, [math.prod(s) for s in self._shapes], dim=-1)
        return {n: c.reshape(*lead, *s)
                for n, c, s in zip(self._names, chunks, self._shapes, strict=True)}

    def minibatch(self, index: Tensor) -> tuple[Tensor, Tensor]:
        index = index.to(self.device)
        x, y = self.data.x_train[index], self.data.y_train[index]
        if self.data.augment is not None:
            x = self.data.augment(x.flatten(0, 1), self.generator).view_as(x)
        return x, y

    @property
    def poisoned(self) -> bool:
        return self.attack.acts_on_data and self.settings.f > 0

    def forge(self, rows: RoundUpdates) -> Tensor:
        """The attack's rows for this round, given the honest ones."""
        ctx = AttackContext(
            honest=rows.honest,
            n=rows.honest.shape[0] + rows.f,
            f=rows.f,
            round=self.round,
            previous_aggregate=self.previous,
            byzantine=rows.byzantine,
            aggregator=probe(self.defense) if "aggregator-aware" in self._attack_tags else None,
            param_mask=self.param_mask,
            generator=self.generator,
        )
        return self.attack(ctx)

    def step(self) -> Tensor:
        """Play one round; return the aggregate (non-finite when the defense failed)."""
        lr = self.start_round()
        tick = time.perf_counter()
        rows = self.updates(lr)
        return self.conclude(rows, lr, time.perf_counter() - tick)

    def start_round(self) -> float:
        """Advance the round counter; return this round's learning rate."""
        self.round += 1
        return self.settings.learning_rate((self.round - 1) / self.rounds_per_epoch)

    def conclude(self, rows: RoundUpdates, lr: float, client_seconds: float) -> Tensor:
        """The rest of a round once ``rows`` (computed in ``client_seconds``) are known: the
        server's own update, the attack, the aggregation and the server step."""
        tick = time.perf_counter()
        server = self.server_update(lr)
        if server is not None:
            innermost(self.defense).set_server_update(server)
        synchronize(self.device)
        tock = time.perf_counter()
        updates = torch.cat([rows.honest, self.forge(rows)])
        synchronize(self.device)
        tack = time.perf_counter()
        aggregate = self.defense(updates)
        synchronize(self.device)
        tuck = time.perf_counter()
        updates.mean(dim=0)  # the baseline's cost on the same rows, for the timing check
        synchronize(self.device)
        self.seconds["clients"] += client_seconds + tock - tick
        self.seconds["attack"] += tack - tock
        self.seconds["aggregation"] += tuck - tack
        self.seconds["mean_aggregation"] += time.perf_counter() - tuck
        if torch.isfinite(aggregate).all():
            self.apply(aggregate, lr)
            self.previous = aggregate
        return aggregate

    def test_accuracy(self) -> float:
        """Accuracy of the server model on the test set (BatchNorm recalibrated first)."""
        torch.nn.utils.vector_to_parameters(self.theta, self.model.parameters())
        recalibrate_batchnorm(self.model, self.data.x_train, generator=self.eval_generator)
        return accuracy(self.model, self.data.x_test, self.data.y_test)

    def attack_success_rate(self) -> float | None:
        """Fraction of the backdoor's triggered test inputs classified as its target, by the
        model :meth:`test_accuracy` last loaded (``None`` without a backdoor)."""
        if self.triggered is None:
            return None
        return accuracy(self.model, *self.triggered)


class RoundLoop:
    """The evaluation schedule of one run: feed it each round's aggregate with
    :meth:`observe` until :attr:`done`, then take the :meth:`outcome`.

    Test accuracy is measured after each whole epoch (round ``round(e * rounds_per_epoch)``);
    a non-finite aggregate or model ends the run as diverged, the missing epochs at chance.
    """

    def __init__(self, run: FederatedRun, progress: Callable[[Progress], None] | None) -> None:
        self.run, self.progress = run, progress
        self.epochs = math.ceil(run.settings.epochs)
        self.eval_rounds = {max(1, round(e * run.rounds_per_epoch)): e
                            for e in range(1, self.epochs + 1)}
        self.chance = 1.0 / run.data.num_classes
        self.curve: list[float] = []
        self.success: list[float] = []
        self.diverged = False
        self.done = False

    def observe(self, aggregate: Tensor) -> None:
        """Account for the round the run just played, which returned ``aggregate``."""
        run, t = self.run, self.run.round
        if not torch.isfinite(aggregate).all():
            self.diverged = self.done = True
            return
        if t in self.eval_rounds:
            if not torch.isfinite(run.theta).all():
                self.diverged = self.done = True
                return
            self.curve.append(run.test_accuracy())
            values = {"test_accuracy": self.curve[-1]}
            asr = run.attack_success_rate()
            if asr is not None:
                self.success.append(asr)
                values["attack_success_rate"] = asr
            if self.progress is not None:
                self.progress(Progress(self.eval_rounds[t], self.epochs, values))
        self.done = t >= max(self.eval_rounds)

    def outcome(self) -> Outcome:
        run, curve, diverged = self.run, list(self.curve), self.diverged
        success = list(self.success)
        if diverged:
            curve += [self.chance] * (self.epochs - len(curve))
            if run.triggered is not None:
                success += [self.chance] * (self.epochs - len(success))
        diagnostics = {k: sum(v) / len(v) for k, v in run.attack.diagnostics.items() if v}
        sizes = class_histograms(run.data.y_train.cpu(), run.shards, run.data.num_classes).sum(1)
        diagnostics["smallest_client"] = float(sizes.min())
        return Outcome(
            metrics={
                "final_accuracy": self.chance if diverged else curve[-1],
                "best_accuracy": max(curve),
                "test_size": float(run.data.y_test.shape[0]),
                "attack_success_rate": success[-1] if success else None,
            },
            curves={"test_accuracy": curve,
                    **({"attack_success_rate": success} if success else {})},
            diagnostics=diagnostics,
            phases=dict(run.seconds),
            counters={"rounds": run.round, "evaluations": len(curve)},
            diverged=diverged,
        )


def simulate_rounds(run: FederatedRun, progress: Callable[[Progress], None] | None) -> Outcome:
    """Play ``run`` for its epochs, evaluating after each whole epoch (see :class:`RoundLoop`)."""
    loop = RoundLoop(run, progress)
    while not loop.done:
        loop.observe(run.step())
    return loop.outcome()

"""One online-learning run under accumulative poisoning (Pang et al., NeurIPS 2021; seed 000).

A model learns from a stream of batches of ``batch_size``:

1. **burn-in**: ``burnin_batches`` clean SGD steps (momentum 0.9, at ``burnin_lr``; the stream
   cycles over the training set), standing in for the authors' pretrained checkpoint;
2. **accumulative phase** (switch ``accumulate``): ``accumulative_batches`` steps on batches
   poisoned by :func:`~bench.online.alignment.craft_accumulative`; the optimizer of the online
   phase uses SGD momentum ``weight_momentum`` (0 = the trick off);
3. **trigger**: one step on the trigger batch (clean, or poisoned by
   :func:`~bench.online.alignment.craft_trigger`; with ``optimize_trigger`` it is re-crafted after
   every accumulative step, the authors' ``--use_online_advtrigger``) [EXTERNAL for 2-3's
   objectives and the switch, see :mod:`bench.online.alignment`].

Accuracy on the test set (less the validation batch the attacker uses) is taken before and after
the trigger.  In the federated variant every sample of a batch is a client (``N = batch_size``)
sending ``G_n = ∇ℓ_n / N``; the server aggregates with the threat model, and ``attacked`` clients
send the recovered offset for ``G_poi = lam · ∇_θ A(θ)`` (the authors' ``feder_accu_train.py``,
notes §II.3.4 [EXTERNAL]); the loop checks that the aggregate is the threat model's image of
``G_poi`` and reports the largest relative error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from bench.online.alignment import Batch, alignment, craft_accumulative, craft_trigger
from bench.online.perturb import Perturbation
from bench.online.threats import ClipAfter, ClipBefore, ThreatModel


@dataclass(frozen=True)
class StreamConfig:
    """Lengths, learning rate and tricks of one online run (validated here)."""

    batch_size: int = 100
    burnin_batches: int = 200
    accumulative_batches: int = 20
    lr: float = 0.1
    burnin_lr: float | None = None
    weight_momentum: float = 0.0
    accumulate: bool = True
    optimize_trigger: bool = False
    gamma: float = 1.0
    attacked: int = 1
    offset_scale: float = 0.01
    clients: int | None = None

    def __post_init__(self) -> None:
        for field in ("batch_size", "burnin_batches", "attacked"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")
        if self.accumulative_batches < 0:
            raise ValueError(f"accumulative_batches must be >= 0, got {self.accumulative_batches}")
        for field in ("lr", "burnin_lr"):
            value = getattr(self, field)
            if value is not None and not value > 0:
                raise ValueError(f"{field} must be > 0, got {value}")
        if not 0 <= self.weight_momentum < 1:
            raise ValueError(f"weight_momentum must be in [0, 1), got {self.weight_momentum}")
        if self.clients is not None and (self.clients < 1 or self.batch_size % self.clients):
            raise ValueError(f"clients={self.clients} must be >= 1 and divide "
                             f"batch_size={self.batch_size}")
        if self.attacked > self.federated_clients:
            raise ValueError(
                f"attacked (M={self.attacked}) must be <= the number of clients "
                f"(N = {self.federated_clients})"
            )

    @property
    def federated_clients(self) -> int:
        """N: ``clients``, or every sample of a batch a client (N = ``batch_size``)."""
        return self.batch_size if self.clients is None else self.clients


@dataclass
class StreamOutcome:
    accuracy_before: float
    accuracy_after: float
    poison_ratio: float
    seconds_accumulative: float | None
    seconds_vanilla: float | None
    offset_error: float | None = None
    crafted: Tensor | None = None
    state_before: dict[str, Tensor] | None = None

    @property
    def delta(self) -> float:
        return self.accuracy_after - self.accuracy_before


def accuracy(model: nn.Module, x: Tensor, y: Tensor, chunk: int = 2000) -> float:
    """Percentage of ``x`` that ``model`` classifies as ``y``."""
    with torch.no_grad():
        hits = sum(int((model(x[i:i + chunk]).argmax(1) == y[i:i + chunk]).sum())
                   for i in range(0, x.shape[0], chunk))
    return 100.0 * hits / x.shape[0]


def client_gradients(model: nn.Module, batch: Batch, clients: int | None = None) -> Tensor:
    """``G_n = Σ_{i ∈ share n} ∇_θ ℓ(x_i, y_i) / B``, ``Tensor[N, d]``: the batch of ``B`` cut
    into ``clients`` N equal consecutive shares (default: every sample a client), so that
    ``Σ_n G_n`` is the batch's mean-loss gradient.  Per-sample gradients by vmap."""
    params = {k: p.detach() for k, p in model.named_parameters()}

    def loss(p: dict, x: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(functional_call(model, p, (x.unsqueeze(0),)), y.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, *batch)
    size = batch[0].shape[0]
    flat = torch.cat([g.reshape(size, -1) for g in per_sample.values()], dim=1) / size
    n = size if clients is None else clients
    if n < 1 or size % n:
        raise ValueError(f"clients={n} must be >= 1 and divide the batch of {size}")
    return flat.reshape(n, size // n, -1).sum(dim=1)


def _set_gradient(model: nn.Module, flat: Tensor) -> None:
    offset = 0
    for p in model.parameters():
        p.grad = flat[offset:offset + p.numel()].view_as(p).clone()
        offset += p.numel()


def _expected_aggregate(threat: ThreatModel, goal: Tensor) -> Tensor:
    """What the server ends with when the offset succeeds: ``G_poi`` or ``Clip_η(G_poi)``."""
    if isinstance(threat, ClipAfter):
        return threat.aggregate(goal.unsqueeze(0))
    return goal


class OnlineRun:
    """Burn-in, accumulative phase and trigger on one model, with separate random streams."""

    def __init__(self, model: nn.Module, train: Batch, test: Batch, config: StreamConfig,
                 generator: torch.Generator) -> None:
        self.model, self.config, self.generator = model, config, generator
        b = config.batch_size
        if train[0].shape[0] < 2 * b:
            raise ValueError(
                f"train set has {train[0].shape[0]} samples, needs at least 2 batches ({2 * b})"
            )
        if test[0].shape[0] <= b:
            raise ValueError(f"test set has {test[0].shape[0]} samples, needs more than {b}")
        order = torch.randperm(train[0].shape[0], generator=generator)
        self.trigger = (train[0][order[:b]], train[1][order[:b]])
        self.stream = order[b:]
        self.train = train
        self.validation = (test[0][:b], test[1][:b])
        self.test = (test[0][b:], test[1][b:])

    def batch(self, index: int) -> Batch:
        """The stream's ``index``-th batch; the stream cycles over the training set."""
        b = self.config.batch_size
        rows = self.stream[(index * b + torch.arange(b)) % len(self.stream)]
        return self.train[0][rows], self.train[1][rows]

    def burn_in(self) -> None:
        """``burnin_batches`` clean SGD steps (momentum 0.9) at ``burnin_lr`` (default ``lr``),
        once per run."""
        lr = self.config.lr if self.config.burnin_lr is None else self.config.burnin_lr
        optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        for i in range(self.config.burnin_batches):
            x, y = self.batch(i)
            optimizer.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            optimizer.step()
        self.burned = True

    def check_trigger(self, trigger: Tensor) -> None:
        if trigger.shape != self.trigger[0].shape:
            raise ValueError(
                f"trigger batch must have shape {tuple(self.trigger[0].shape)}, "
                f"got {tuple(trigger.shape)}"
            )

    def craft_trigger(self, perturbation: Perturbation) -> tuple[Tensor, float]:
        """The poisoned trigger's inputs and the seconds crafting them took."""
        start = time.perf_counter()
        x = craft_trigger(self.model, self.trigger, self.validation, perturbation, self.generator)
        return x, time.perf_counter() - start

    def run(self, perturbation: Perturbation, poisoned_trigger: bool = True,
            threat: ThreatModel | None = None) -> StreamOutcome:
        """Burn-in (unless done), accumulative phase (batches poisoned by ``perturbation``) and
        trigger.  ``poisoned_trigger=False`` is the clean trigger; with a ``threat`` the run is
        federated.  Seconds per batch count the crafting only (poisoned inputs, or the offset),
        so the vanilla (trigger) and accumulative figures compare like with like.
        """
        cfg = self.config
        if not getattr(self, "burned", False):
            self.burn_in()
        optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg.lr,
                                    momentum=cfg.weight_momentum)
        trigger_x, vanilla = self.trigger[0], None
        if poisoned_trigger:
            trigger_x, vanilla = self.craft_trigger(perturbation)
        self.check_trigger(trigger_x)
        seconds, errors, crafted = [], [], []
        for i in range(cfg.accumulative_batches if cfg.accumulate else 0):
            batch = self.batch(cfg.burnin_batches + i)
            optimizer.zero_grad()
            start = time.perf_counter()
            if threat is None:
                x = craft_accumulative(self.model, batch, (trigger_x, self.trigger[1]),
                                       self.validation, perturbation, cfg.gamma, self.generator)
                seconds.append(time.perf_counter() - start)
                crafted.append(x)
                F.cross_entropy(self.model(x), batch[1]).backward()
            else:
                error = self.federated_step(batch, (trigger_x, self.trigger[1]), threat)
                seconds.append(time.perf_counter() - start)
                errors.extend([] if error is None else [error])
            optimizer.step()
            if cfg.optimize_trigger and poisoned_trigger:
                trigger_x = self.craft_trigger(perturbation)[0]
        before = accuracy(self.model, *self.test)
        state_before = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if poisoned_trigger and threat is None:
            crafted.append(trigger_x)
        optimizer.zero_grad()
        if threat is None:
            F.cross_entropy(self.model(trigger_x), self.trigger[1]).backward()
        else:
            _set_gradient(self.model, threat.aggregate(client_gradients(
                self.model, (trigger_x, self.trigger[1]), cfg.federated_clients)))
        optimizer.step()
        after = accuracy(self.model, *self.test)
        return StreamOutcome(
            accuracy_before=before, accuracy_after=after,
            poison_ratio=self.poison_ratio(len(seconds), poisoned_trigger, threat),
            seconds_accumulative=sum(seconds) / len(seconds) if seconds else None,
            seconds_vanilla=vanilla, offset_error=max(errors) if errors else None,
            crafted=torch.cat(crafted) if crafted else None, state_before=state_before,
        )

    def poison_ratio(self, phase_batches: int, poisoned_trigger: bool,
                     threat: ThreatModel | None) -> float:
        """Online: the poisoned share of the samples after the burn-in (accumulative batches
        and trigger).  Federated: ``M / N``, the share of clients sending the offset in each
        round of the phase (seed 000 §A.3's 1 %), 0 without a phase."""
        cfg = self.config
        if threat is None:
            poisoned = cfg.batch_size * (phase_batches + int(poisoned_trigger))
            return poisoned / (cfg.batch_size * (phase_batches + 1))
        return cfg.attacked / cfg.federated_clients if phase_batches else 0.0

    def federated_step(self, batch: Batch, trigger: Batch, threat: ThreatModel) -> float | None:
        """Set ``.grad`` to the honest clients' and the offset's aggregate; return its error.

        The error is ``||G - G*|| / ||G*||`` with ``G*`` the aggregate the offset must reach:
        ``G_poi`` (no clip; clip before when ``||r|| <= Mη``) or ``Clip_η(G_poi)`` (clip after).
        ``None`` when clipping before aggregation leaves ``G_poi`` out of reach.
        """
        m = self.config.attacked
        params = [p for p in self.model.parameters() if p.requires_grad]
        steer = torch.autograd.grad(alignment(self.model, trigger, self.validation,
                                              create_graph=True), params)
        goal = self.config.offset_scale * torch.cat([s.flatten() for s in steer])
        honest = client_gradients(self.model, batch, self.config.federated_clients)[m:]
        forged = threat.offset(goal, honest, m)
        aggregate = threat.aggregate(torch.cat([honest, forged]))
        if isinstance(threat, ClipBefore):
            r = threat.residual(goal, honest)
            reachable = float(r.norm(p=2 if threat.norm == "l2" else float("inf")))
            target = goal if reachable <= m * threat.bound else None
        else:
            target = _expected_aggregate(threat, goal)
        _set_gradient(self.model, aggregate)
        if target is None:
            return None
        return float((aggregate - target).norm() / target.norm().clamp_min(1e-30))

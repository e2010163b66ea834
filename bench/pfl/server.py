r"""Federated gradient descent of seed 004 §2.2 with one strategic user and a plausibility filter.

At each round t the server sends rho^t; every user n updates theta_n^t (:mod:`bench.pfl.local`)
and reports g_n^t = grad_rho R(rho^t, theta_n^t); a pinned user (model attack) reports
grad_rho R(rho^t, theta^natural); a gradient attacker reports anything.  Reports outside GRAD(rho^t)
(for l2norm and l2smooth: ||g|| > lam) are ignored, and

.. math:: \rho^{t+1} = \rho^t - \eta \sum_{n \text{ kept}} g_n^t.

Beyond seed 004 (which evaluates no robust aggregation rule): ``aggregator`` replaces the sum by
k * agg(kept reports), k the number kept, so the ``mean`` rule reproduces the sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.pfl.federation import Federation
from bench.pfl.local import ENGINES, MODES, LocalProblem


@dataclass(frozen=True)
class ServerConfig:
    """Server step eta > 0, rounds, local mode and step, engine, optional robust aggregator."""

    step: float
    rounds: int
    local_mode: str = "step"
    local_lr: float = 0.0
    engine: str = "batched"
    aggregator: Aggregator | None = None
    keep_history: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.step) or self.step <= 0:
            raise ValueError(f"step (eta) must be finite and > 0, got {self.step}")
        if self.rounds < 0:
            raise ValueError(f"rounds must be >= 0, got {self.rounds}")
        if self.local_mode not in MODES:
            raise ValueError(f"local_mode must be one of {MODES}, got {self.local_mode!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.local_mode == "step" and (not math.isfinite(self.local_lr) or self.local_lr <= 0):
            raise ValueError(f"local_lr must be > 0 for local_mode 'step', got {self.local_lr}")


@dataclass
class Trajectory:
    """Final state, the ignored-report count and (optionally) every rho^t and attacker report."""

    rho: Tensor
    theta: Tensor
    ignored: int = 0
    rhos: list[Tensor] = field(default_factory=list)
    attacker_reports: list[Tensor] = field(default_factory=list)


def simulate(
    problem: LocalProblem,
    users: Federation,
    config: ServerConfig,
    rho: Tensor,
    pinned: Tensor | None = None,
    attacker=None,
    theta: Tensor | None = None,
) -> Trajectory:
    """Run ``config.rounds`` rounds from ``rho``.

    ``users`` follow the protocol (honest users and any data poisoner); ``pinned [k, d]`` are
    model-attack users' fixed models; ``attacker`` is a started
    :class:`~bench.pfl.attacks.base.GradientAttack` or None.  ``theta`` is the users' initial
    local models (default rho for everyone; irrelevant in exact mode).
    """
    regularizer = problem.regularizer
    theta = rho.expand(users.clients, -1).clone() if theta is None else theta.clone()
    trajectory = Trajectory(rho=rho, theta=theta)
    if config.keep_history:
        trajectory.rhos.append(rho.clone())
    for _ in range(config.rounds):
        theta = problem.update(theta, rho, users, config.local_mode, config.local_lr, config.engine)
        reports = [regularizer.gradient(rho, theta)]
        if pinned is not None:
            reports.append(regularizer.gradient(rho, pinned))
        if attacker is not None:
            strategic = attacker.report(rho, config.step)
            reports.append(strategic.unsqueeze(0))
            if config.keep_history:
                trajectory.attacker_reports.append(strategic.clone())
        stacked = torch.cat(reports)
        kept = regularizer.plausible(stacked)
        trajectory.ignored += int((~kept).sum())
        rho = rho - config.step * aggregate(stacked[kept], config.aggregator, rho)
        if config.keep_history:
            trajectory.rhos.append(rho.clone())
    trajectory.rho, trajectory.theta = rho, theta
    return trajectory


def aggregate(reports: Tensor, aggregator: Aggregator | None, like: Tensor) -> Tensor:
    """sum of the kept reports, or (beyond seed 004) k * aggregator(kept)."""
    if reports.shape[0] == 0:
        return torch.zeros_like(like)
    if aggregator is None:
        return reports.sum(dim=0)
    return reports.shape[0] * aggregator(reports)

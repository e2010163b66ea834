r"""One run of the ``pfl`` protocol: build the users, the target and the attacker, then simulate.

The honest users' data and the attacker's target come from the split seed; the attack's own
randomness (random queries, noise) from the training seed.  The strategic user, if any, is one
extra user: a data poisoner joins with its fabricated D_s (weight alpha), a model attacker with
its pinned theta^natural, a gradient attacker with its reports (:func:`bench.pfl.server.simulate`).
The server starts at rho^0 = the loss's initial draw (0 for the convex losses, from the
training seed for the MLP) and runs in ``CHUNKS`` pieces so progress can be reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from bench.aggregators.base import Aggregator
from bench.pfl.attacks.base import AttackContext, DataPoisoner, GradientAttack, ModelAttack
from bench.pfl.data import UserData
from bench.pfl.federation import Federation
from bench.pfl.local import LocalProblem
from bench.pfl.losses import LocalLoss
from bench.pfl.metrics import accuracy, mapped_labels, poison_ratio
from bench.pfl.server import ServerConfig, Trajectory, simulate
from bench.pfl.settings import PflSettings
from bench.registry import aggregators, pfl_attacks, pfl_datasets, pfl_models, regularizers
from bench.run import Outcome, Progress, Seeds
from bench.scenario import Scenario

CHUNKS = 10
TARGET_STREAM = 1_000_003  # offsets the split seed for the target's own generator

# An attack succeeds when rho ends within this share of its starting distance to theta_dagger
# (the grids' ceiling for the seed's successful attacks: Theorem 4 drives the ratio to 0).
TARGET_REACHED = 0.1


@dataclass
class Setup:
    """Everything a run needs before the first round."""

    settings: PflSettings
    data: UserData
    problem: LocalProblem
    honest: Federation
    target: Tensor
    init: Tensor
    server: ServerConfig
    device: torch.device


def build_loss(scenario: Scenario, data: UserData) -> LocalLoss:
    return pfl_models.make_with_optional(scenario.model.name, {"classes": data.classes},
                                         **scenario.model.params)


def build_problem(scenario: Scenario, data: UserData) -> LocalProblem:
    sc: PflSettings = scenario.settings  # type: ignore[assignment]
    regularizer = regularizers.make(scenario.defense.aggregator.name, lam=sc.lam,
                                    **scenario.defense.aggregator.params)
    return LocalProblem(build_loss(scenario, data), regularizer, sc.nu)


def build_aggregator(sc: PflSettings) -> Aggregator | None:
    """The rule replacing the server's sum (beyond seed 004), told f = 1 strategic user."""
    if sc.aggregator is None:
        return None
    return aggregators.make_with_optional(sc.aggregator.name, {"f": 1}, **sc.aggregator.params)


def fit_mapped_target(loss: LocalLoss, data: UserData, sc: PflSettings, start: Tensor
                      ) -> Tensor:
    """theta^dagger: ``target_fit`` gradient steps of size ``target_lr`` from ``start`` (the
    loss's initial draw) on the mean cross-entropy of the attacker's pool relabelled
    a -> (a + 1) mod K (seed 004 §5.1)."""
    queries, labels = data.own
    mapped = labels.roll(1, dims=-1)
    theta = start.unsqueeze(0)
    for _ in range(sc.target_fit):
        with torch.enable_grad():
            point = theta.requires_grad_(True)
            value = loss.point_losses(point, queries[None], mapped[None]).mean()
            (grad,) = torch.autograd.grad(value, point)
        theta = (theta - sc.target_lr * grad).detach()
    return theta[0]


def make_target(loss: LocalLoss, data: UserData, sc: PflSettings, split: int) -> Tensor:
    generator = torch.Generator().manual_seed(split + TARGET_STREAM)
    dtype = data.own[0].dtype
    if sc.target == "mapped":
        return fit_mapped_target(loss, data, sc, loss.initial(data.features, generator, dtype))
    return sc.target_scale * torch.randn(loss.dim(data.features), generator=generator,
                                         dtype=dtype)


def setup(scenario: Scenario, seeds: Seeds, device: torch.device) -> Setup:
    sc: PflSettings = scenario.settings  # type: ignore[assignment]
    dataset = pfl_datasets.make(scenario.dataset.name, **scenario.dataset.params)
    data = dataset.users(sc.users, seeds.split)
    problem = build_problem(scenario, data)
    target = make_target(problem.loss, data, sc, seeds.split).to(device)
    honest = Federation.stack([(q.to(device), a.to(device)) for q, a in data.users], sc.form)
    server = ServerConfig(step=sc.step, rounds=sc.rounds, local_mode=sc.local,
                          local_lr=sc.local_lr, aggregator=build_aggregator(sc))
    init = problem.loss.initial(data.features, torch.Generator().manual_seed(seeds.train),
                                target.dtype).to(device)
    return Setup(sc, data, problem, honest, target, init, server, device)


@dataclass
class Strategic:
    """What the attacker contributes: extra users, a pinned model, or a live reporter."""

    users: Federation
    pinned: Tensor | None = None
    reporter: GradientAttack | None = None
    poison_points: int = 0
    model: Tensor | None = None


def strategic_user(scenario: Scenario, run: Setup, seeds: Seeds) -> Strategic:
    attack = pfl_attacks.make(scenario.attack.name, **scenario.attack.params)
    own = tuple(t.to(run.device) for t in run.data.own)
    context = AttackContext(run.problem, run.honest, run.target, run.server, run.init,
                            torch.Generator().manual_seed(seeds.train), own=own,
                            form=run.settings.form)
    if isinstance(attack, DataPoisoner):
        queries, labels, alpha = attack.poison(context)
        everyone = [(q.to(run.device), a.to(run.device)) for q, a in run.data.users]
        users = Federation.stack([*everyone, (queries, labels)], run.settings.form,
                                 scales=[1.0] * len(everyone) + [alpha])
        return Strategic(users, poison_points=len(queries))
    if isinstance(attack, ModelAttack):
        model = attack.attack_model(context)
        return Strategic(run.honest, pinned=model.unsqueeze(0), model=model)
    if isinstance(attack, GradientAttack):
        attack.start(context)
        return Strategic(run.honest, reporter=attack)
    return Strategic(run.honest)


def execute(scenario: Scenario, seeds: Seeds, device: torch.device,
            progress: Callable[[Progress], None] | None) -> Outcome:
    """Simulate ``scenario`` and measure it (see :data:`bench.pfl.protocol.PFL_METRICS`)."""
    start = time.perf_counter()
    run = setup(scenario, seeds, device)
    built = time.perf_counter()
    attacker = strategic_user(scenario, run, seeds)
    armed = time.perf_counter()
    trajectory = advance(run, attacker, progress)
    done = time.perf_counter()
    outcome = measure(run, attacker, trajectory)
    outcome.phases = {"setup": built - start, "attack": armed - built, "rounds": done - armed}
    outcome.counters = {"rounds": run.settings.rounds, "ignored_reports": trajectory.ignored}
    return outcome


def advance(run: Setup, attacker: Strategic, progress: Callable[[Progress], None] | None
            ) -> Trajectory:
    """All rounds in ``CHUNKS`` pieces; rho^t and the attacker's reports kept for the curves."""
    rounds = run.settings.rounds
    rho, theta = run.init, None
    history = Trajectory(rho=rho, theta=rho, rhos=[rho.clone()])
    done = 0
    for piece in range(CHUNKS):
        length = (rounds * (piece + 1)) // CHUNKS - done
        if length == 0:
            continue
        config = replace(run.server, rounds=length, keep_history=True)
        part = simulate(run.problem, attacker.users, config, rho, pinned=attacker.pinned,
                        attacker=attacker.reporter, theta=theta)
        rho, theta, done = part.rho, part.theta, done + length
        history.rhos += part.rhos[1:]
        history.attacker_reports += part.attacker_reports
        history.ignored += part.ignored
        if progress is not None:
            distance = float((rho - run.target).norm())
            progress(Progress(done, rounds, {"target_distance": distance}))
    history.rho, history.theta = rho, theta
    return history


def measure(run: Setup, attacker: Strategic, trajectory: Trajectory) -> Outcome:
    rho, target, honest_count = trajectory.rho, run.target, run.settings.users
    theta = trajectory.theta
    start_distance = float((run.init - target).norm())
    distances = [float((r - target).norm()) for r in trajectory.rhos]
    own_model = attacker.model if attacker.model is not None else (
        theta[honest_count] if attacker.poison_points else None)
    ratio = distances[-1] / start_distance if start_distance > 0 else None
    metrics: dict[str, float | None] = {
        "target_distance_ratio": ratio,
        "target_reached": None if ratio is None else float(ratio <= TARGET_REACHED),
        "target_distance": distances[-1],
        "rho_norm": float(rho.norm()),
        "init_distance": float((rho - run.init).norm()),
        "honest_distance": float((rho - theta[:honest_count]).norm(dim=-1).mean()),
        "attacker_distance": None if own_model is None else float((rho - own_model).norm()),
        "poison_count": float(attacker.poison_points),
        "poison_ratio": poison_ratio(attacker.poison_points, run.data.points),
        "honest_model_error": None,
        "attacker_report_norm": None,
        "attacker_report_alignment": None,
        **classifier_metrics(run, rho, theta[:honest_count]),
    }
    if run.data.preferred is not None:
        preferred = run.data.preferred.to(theta)
        metrics["honest_model_error"] = float((theta[:honest_count] - preferred).norm(dim=-1)
                                              .mean())
    if trajectory.attacker_reports:
        report, offset = trajectory.attacker_reports[-1], rho - target
        metrics["attacker_report_norm"] = float(report.norm()) / run.problem.regularizer.lam
        denominator = float(report.norm() * offset.norm())
        metrics["attacker_report_alignment"] = (float(report @ offset) / denominator
                                                if denominator > 0 else None)
    curves = {"target_distance": distances}
    return Outcome(metrics=metrics, curves=curves,
                   diverged=not bool(torch.isfinite(rho).all()))


CLASSIFIER_METRICS = ("true_accuracy", "target_accuracy", "target_own_accuracy",
                      "personal_accuracy_mean", "personal_accuracy_worst")


def classifier_metrics(run: Setup, rho: Tensor, honest: Tensor) -> dict[str, float | None]:
    """Accuracies on the clean evaluation set (multiclass data only, else None)."""
    data = run.data
    if data.task != "multiclass" or data.test_queries is None or not bool(
            torch.isfinite(rho).all()):
        return dict.fromkeys(CLASSIFIER_METRICS)
    loss, queries = run.problem.loss, data.test_queries.to(rho)
    labels = data.test_labels.to(rho.device)
    mapped = mapped_labels(labels, data.classes)
    personal = [accuracy(loss, model, queries, labels) for model in honest]
    return {
        "true_accuracy": accuracy(loss, rho, queries, labels),
        "target_accuracy": accuracy(loss, rho, queries, mapped),
        "target_own_accuracy": accuracy(loss, run.target, queries, mapped),
        "personal_accuracy_mean": sum(personal) / len(personal),
        "personal_accuracy_worst": min(personal),
    }

r"""Protocol ``retrain``: a centralized victim retrained on clean + poison data (seeds 001, 002).

One run, for a data set, a victim (``model``), a target (setting), an attack and a defense:

1. fit the victim on the clean training set ``D_c`` (``n`` points): the clean model;
2. build the target from the clean model (:mod:`bench.poisoning.targets`) and its threshold
   ``tau`` (seed 002 eq. 20); resolve ``eps_d`` (absolute, or ``epsilon_over_tau * tau``);
3. the attack returns ``n_p = round(n eps_d)`` poisons (none for ``none``);
4. retrain the victim on ``D_c u D_p`` (the *poisoned* model); a defense (sanitizer) scores the
   mixture at the poisoned model, removes ``n_p`` points and the victim retrains (the
   *defended* model); a robust-training defense (one with ``retrain``, e.g. MaxUp) instead
   retrains from the poisoned model on the whole mixture with its own objective;
5. measure on the test set.

A network victim runs on the run's ``device`` (its data, models, poisons and defenses with it);
a convex victim's exact solvers run on the CPU whatever the device.

The primary metric is the **drop** ``100 (score(clean) - score(final))`` in points, ``final``
being the defended model where there is a defense.  Higher is *better for the attack*: the
poisoning leaderboard ranks attacks (rows) by their drop at each ``eps_d`` (columns), so the
direction is the attacker's; a defense's effect is its ``recovery``
``100 (score(defended) - score(poisoned))``, higher better for the defender.  Floors in a grid are
therefore the least drop an attack must reach, ceilings the most it may reach (below ``tau``).

``bound_margin`` (binary margin victims) is the hard invariant of seed 002 Example 2
[derived in :func:`bench.poisoning.threshold.mixture_gradient_bound`]: with the regularizer's
shift ``rho = C_R ||w||^2``,

.. math::

    \|(1 + \epsilon_d)\, g(\chi)\| - \frac{A + \rho + \epsilon_d (a + \rho)}{\|\theta\|} \ge 0

for every poison set, at the end state of the attack (``theta = (w, b)`` the target).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from bench.data.base import DatasetUnavailable
from bench.poisoning import threshold as th
from bench.poisoning.data import PoisonData
from bench.poisoning.gradient_canceling import Poisons
from bench.poisoning.settings import RetrainSettings
from bench.poisoning.targets import fingerprint
from bench.poisoning.victims import MarginVictim
from bench.registry import datasets, poisoners, protocols, sanitizers, targets, victims
from bench.run import Grouping, MetricSpec, Outcome, Progress, Protocol, Seeds
from bench.scenario import Component, Scenario

RETRAIN_METRICS = (
    MetricSpec("drop", "points", True,
               "score lost to poisoning, 100 (clean - final); higher = stronger attack"),
    MetricSpec("clean_accuracy", "fraction", None, "test score of the clean model"),
    MetricSpec("poisoned_accuracy", "fraction", None,
               "test score of the final (poisoned, then defended) model"),
    MetricSpec("target_accuracy", "fraction", None, "test score of the target model"),
    MetricSpec("mixture_grad_norm", "norm", False,
               "||g(chi)|| of the target on the clean + poison mixture (regularizer included)"),
    MetricSpec("target_distance", "norm", False,
               "||theta_poisoned - theta_target||_2 of the undefended retrained model"),
    MetricSpec("poisons", "count", None, "poison points added, round(n eps_d)"),
    MetricSpec("epsilon", "ratio", None, "eps_d = poisons / n"),
    MetricSpec("poison_share", "ratio", None, "lambda = eps_d / (1 + eps_d)"),
    MetricSpec("tau", "ratio", None, "poisonability threshold of the target (seed 002 eq. 20)"),
    MetricSpec("bound_margin", "norm", None,
               "||(1+eps_d) g(chi)|| minus its analytic lower bound (>= 0 always; margin victims)"),
    MetricSpec("recovery", "points", True,
               "100 (defended - poisoned score); None without a defense"),
    MetricSpec("test_size", "count", None, "test-set size"),
)

# --- Attack-reported metrics (seed 001 attacks, issue 12) ------------------------------------
# A poisoner whose Poisons carry a ``metrics`` dict (bench.poisoning.model_targeted's
# ReportedPoisons) reports these; for every other attack they are None.
ATTACK_METRICS = (
    MetricSpec("lower_bound", "count", None,
               "seed 001 Theorem 2: certified poisons needed (exact line 4 only)"),
    MetricSpec("lower_bound_ratio", "ratio", None, "lower_bound / poisons, in (0, 1]"),
    MetricSpec("attack_retrains", "count", False, "victim retrains inside the attack"),
    MetricSpec("max_loss_difference", "loss", False,
               "seed 001 Def. 1: max_(x,y) l(theta_atk) - l(theta_p) at the attack's end"),
    MetricSpec("epsilon_reached", "flag", None, "1 if the attack stopped epsilon-close"),
    MetricSpec("seconds_per_retrain", "s", False, "attack seconds per retrain"),
)
RETRAIN_METRICS = RETRAIN_METRICS + ATTACK_METRICS


def load_poison_data(spec: Component, seed: int) -> PoisonData:
    """The data set ``spec`` names, drawn with ``seed`` (its own ``seed`` parameter wins)."""
    params = {"seed": seed, **spec.params}
    data = datasets.make(spec.name, **params)
    if not isinstance(data, PoisonData):
        raise ValueError(f"dataset {spec.name!r} is not a data set of the poisoning track")
    return data


def build_victim(spec: Component, c_r: float, data: PoisonData,
                 device: torch.device | str = "cpu") -> Any:
    """The victim ``spec`` names for ``data``; on ``device`` if it takes one (networks)."""
    victim = victims.make_with_optional(spec.name, {"c_r": c_r, "classes": data.classes,
                                                    "features": data.x_train.shape[1],
                                                    "device": device},
                                        **spec.params)
    victim.check(data.task)
    return victim


_CLEAN_FITS: dict[tuple[str, str], dict[str, torch.Tensor]] = {}


def clean_fit(victim: Any, data: PoisonData) -> dict[str, torch.Tensor]:
    """The victim fitted on ``data``'s clean training set, once per process (the fit is
    deterministic, so cases differing only in attack, defense or budget share it)."""
    key = (repr(victim), fingerprint(data.x_train, data.y_train))
    if key not in _CLEAN_FITS:
        _CLEAN_FITS[key] = victim.fit(data.x_train, data.y_train)
    return {k: v.clone() for k, v in _CLEAN_FITS[key].items()}


class _Clock:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        yield
        self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - start


@protocols.register("retrain")
class RetrainProtocol(Protocol):
    """Centralized retraining on clean + poison data (seed 002 §5, seed 001 §5)."""

    name = "retrain"
    settings = RetrainSettings
    slots = {"dataset": datasets, "model": victims, "attack": poisoners, "defense": sanitizers}
    metrics = RETRAIN_METRICS
    # One table per data set: victims x attacks by targets x budgets, so seed 001's n_p,
    # accuracy and lower bound per victim x target error sit side by side (secondary tables)
    # and seed 002's drops per attack x eps_d read as before.
    grouping = Grouping(rows=("model", "attack", "defense"),
                        columns=("target", "epsilon", "epsilon_over_tau"),
                        groups=("dataset", "c_r"), baseline=None,
                        secondary=("recovery", "poisoned_accuracy", "poisons", "lower_bound"))

    def validate(self, scenario: Scenario) -> None:
        """Components build with their parameters; the victim fits the data set's task."""
        sc: RetrainSettings = scenario.settings  # type: ignore[assignment]
        targets.validate(sc.target.name, sc.target.params)
        target = targets.make(sc.target.name, **sc.target.params)
        if hasattr(target, "check_dataset"):  # a target tied to its data set (clusterpop)
            target.check_dataset(scenario.dataset)
        poisoners.make(scenario.attack.name, **scenario.attack.params)
        sanitizers.make(scenario.defense.aggregator.name, **scenario.defense.aggregator.params)
        try:
            data = load_poison_data(scenario.dataset, 0)
        except DatasetUnavailable:
            return
        victim = build_victim(scenario.model, sc.c_r, data)
        if sc.epsilon_over_tau is not None and data.task == "regression":
            raise ValueError(f"victim {victim.name} has tau = 0: set epsilon, not "
                             "epsilon_over_tau")

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None) -> Outcome:
        sc: RetrainSettings = scenario.settings  # type: ignore[assignment]
        clock = _Clock()
        data = load_poison_data(scenario.dataset, sc.data_seed_of(seeds.split))
        victim = build_victim(scenario.model, sc.c_r, data, device)
        on = getattr(victim, "device", torch.device("cpu"))
        xs, ys = data.x_train, data.y_train
        x, y = torch.as_tensor(xs, device=on), victim.labels(ys)
        objective = victim.objective

        def report(step: int, **values: float) -> None:
            if progress is not None:
                progress(Progress(step, 4, values))

        with clock.phase("clean"):
            clean = clean_fit(victim, data)
        clean_score = victim.score(clean, data.x_test, data.y_test)
        report(1, clean_accuracy=clean_score)
        with clock.phase("target"):
            target = targets.make(sc.target.name, **sc.target.params).build(
                objective, clean, x, y, getattr(victim, "convex", None), seeds.train)
            tau = victim.tau(target, xs, ys)
        eps_d = sc.resolve_epsilon(tau)
        report(2, tau=tau, epsilon=eps_d)
        attack = poisoners.make_with_optional(
            scenario.attack.name, {"epochs": sc.attack_epochs, "lr": sc.attack_lr},
            **scenario.attack.params)
        with clock.phase("attack"):
            poisons: Poisons = attack.poison(objective, target, clean, x, y, eps_d,
                                             data.lower, data.upper, seeds.train)
        count = poisons.x.shape[0]
        mixture_x = np.vstack([xs, poisons.x.detach().cpu().numpy()])
        mixture_y = np.concatenate([ys, poisons.y.detach().cpu().numpy().astype(ys.dtype)])
        with clock.phase("retrain"):
            poisoned = victim.fit(xs, ys, extra_x=mixture_x[len(ys):], extra_y=mixture_y[len(ys):])
        poisoned_score = victim.score(poisoned, data.x_test, data.y_test)
        report(3, poisoned_accuracy=poisoned_score)
        final, recovery = poisoned, None
        if scenario.defense.aggregator.name != "none":
            sanitizer = sanitizers.make(scenario.defense.aggregator.name,
                                        **scenario.defense.aggregator.params)
            mixture = torch.as_tensor(mixture_x, device=on), victim.labels(mixture_y)
            with clock.phase("defense"):
                if hasattr(sanitizer, "retrain"):  # robust training (MaxUp): nothing removed
                    final = sanitizer.retrain(objective, poisoned, *mixture, seeds.train)
                else:
                    keep = sanitizer.keep(objective, poisoned, *mixture, count).cpu().numpy()
                    final = victim.fit(mixture_x[keep], mixture_y[keep])
        final_score = victim.score(final, data.x_test, data.y_test)
        if scenario.defense.aggregator.name != "none":
            recovery = 100.0 * (final_score - poisoned_score)
        report(4, final_accuracy=final_score)

        eps_used = count / len(ys)
        grad = objective.gradient(target, torch.as_tensor(mixture_x, device=on),
                                  victim.labels(mixture_y))
        distance = float((_flat(poisoned) - _flat(target)).norm())
        metrics: dict[str, float | None] = {
            "drop": 100.0 * (clean_score - final_score),
            "clean_accuracy": clean_score,
            "poisoned_accuracy": final_score,
            "target_accuracy": victim.score(target, data.x_test, data.y_test),
            "mixture_grad_norm": float(grad.norm()),
            "target_distance": distance,
            "poisons": float(count),
            "epsilon": eps_used,
            "poison_share": th.poison_fraction(eps_used),
            "tau": tau,
            "bound_margin": _bound_margin(victim, target, xs, ys, eps_used, float(grad.norm())),
            "recovery": recovery,
            "test_size": float(len(data.y_test)),
        }
        reported = getattr(poisons, "metrics", {})  # seed 001 attacks (ATTACK_METRICS)
        metrics.update({m.name: reported.get(m.name) for m in ATTACK_METRICS})
        curves = {attack.curve_name: list(poisons.curve)} if poisons.curve else {}
        curves.update(getattr(poisons, "curves", {}))  # seed 001 attacks' per-iteration logs
        return Outcome(metrics=metrics, curves=curves, phases=clock.phases,
                       counters={"retrains": 2 + (recovery is not None)},
                       diagnostics={"requested_epsilon": eps_d})


def _flat(params: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.reshape(-1).cpu() for p in params.values()])


def _bound_margin(victim: Any, target: dict[str, torch.Tensor], x: np.ndarray, y: np.ndarray,
                  eps: float, mixture_norm: float) -> float | None:
    """``||(1 + eps) g(chi)|| - (A + rho + eps (a + rho)) / ||theta||`` (module docstring)."""
    if not isinstance(victim, MarginVictim):
        return None
    bound = th.mixture_gradient_bound(victim.inner(target, x, y), eps,
                                      float(_flat(target).norm()),
                                      infimum=victim.infimum(target))
    return (1 + eps) * mixture_norm - bound

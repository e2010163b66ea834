r"""Protocol ``pfl``: personalized federated learning with one strategic user (seed 004).

LOSS(rho, theta) = sum_n [nu ||theta_n||^2 + L(theta_n, D_n) + R(rho, theta_n)], with the
regularizer R (the *defense* slot: ``l2sq``, ``l2norm``, ``l2smooth``) weighted by ``lam``.  Each
round the users update their local models, report g_n = grad_rho R(rho, theta_n), the server drops
implausible reports (||g|| > lam for the bounded regularizers) and steps
rho <- rho - eta sum g_n.  The *attack* slot is the strategic user (:data:`pfl_attacks`), the
*dataset* slot the users' data (:data:`pfl_datasets`), the *model* slot the local loss
(:data:`pfl_models`).

The primary metric is ``target_distance_ratio`` = ||rho^T - theta^dagger|| / ||rho^0 -
theta^dagger||, higher is better *for the defense*: 1 means the attacker did not move the global
model towards its target, 0 that it reached it.  It is defined for every data set and model
(accuracies are not: regression has none) and is what the seed's claims are about (Theorem 4:
CGA drives it to 0 against l2sq; Fig. 1: against l2 it stays large).  A grid's ``floor`` is
therefore the least ratio a defense must keep and ``ceiling`` the largest ratio an attack that
breaks the defense may leave.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from bench.pfl.attacks.data import LabelMapping, SinglePoint
from bench.pfl.attacks.indifference import IndifferenceSubspace
from bench.pfl.attacks.models import CounterGradientModel
from bench.pfl.losses import LinearRegression, SoftmaxClassifier
from bench.pfl.settings import PflSettings
from bench.pfl.simulation import execute
from bench.registry import pfl_attacks, pfl_datasets, pfl_models, protocols, regularizers
from bench.run import Grouping, MetricSpec, Outcome, Progress, Protocol, Seeds
from bench.scenario import Scenario

PFL_METRICS = (
    MetricSpec("target_distance_ratio", "ratio", True,
               "||rho - theta_dagger|| at the end over its start: 1 untouched, 0 manipulated"),
    MetricSpec("target_reached", "flag", False,
               "1 when the attack succeeded: target_distance_ratio <= 0.1 (the grids' ceiling)"),
    MetricSpec("target_distance", "l2", None, "||rho - theta_dagger|| at the end"),
    MetricSpec("rho_norm", "l2", None, "||rho|| at the end"),
    MetricSpec("init_distance", "l2", None, "||rho - rho_0|| at the end"),
    MetricSpec("honest_distance", "l2", None, "mean over honest users of ||rho - theta_n||"),
    MetricSpec("attacker_distance", "l2", None,
               "||rho - theta_s|| (data and model attacks: the attacker's local model)"),
    MetricSpec("poison_count", "points", None, "data points the strategic user holds"),
    MetricSpec("poison_ratio", "fraction", None, "|D_s| / (|D_s| + sum of honest |D_n|)"),
    MetricSpec("true_accuracy", "fraction", True, "accuracy of rho on the true labels"),
    MetricSpec("target_accuracy", "fraction", False,
               "accuracy of rho on the attacker's labelling a -> a+1 mod K"),
    MetricSpec("target_own_accuracy", "fraction", None,
               "accuracy of theta_dagger itself on the attacker's labelling"),
    MetricSpec("personal_accuracy_mean", "fraction", True,
               "mean over honest users of their local model's true-label accuracy"),
    MetricSpec("personal_accuracy_worst", "fraction", True,
               "worst honest user's local-model true-label accuracy"),
    MetricSpec("honest_model_error", "l2", False,
               "mean ||theta_n - theta_n_dagger|| over honest users (synthetic data)"),
    MetricSpec("attacker_report_norm", "lam", None,
               "||g_s|| / lam of the gradient attacker's last report"),
    MetricSpec("attacker_report_alignment", "cosine", None,
               "cos(g_s, rho - theta_dagger) at the last round (Prop. 2: 1 when resisted)"),
)

NEEDS_SQUARED = "Proposition 3's attack model theta^dagger - g_inf / (2 lam) needs l2sq"


@protocols.register("pfl")
class PflProtocol(Protocol):
    """Personalized FL with one strategic user and a regularizer as the defense (seed 004)."""

    name = "pfl"
    settings = PflSettings
    slots = {"dataset": pfl_datasets, "model": pfl_models, "attack": pfl_attacks,
             "defense": regularizers}
    metrics = PFL_METRICS
    grouping = Grouping(rows=("defense", "lam"), columns=("attack",),
                        groups=("dataset", "model", "users", "local", "form"),
                        secondary=("true_accuracy", "target_reached"))

    def validate(self, scenario: Scenario) -> None:
        """Load-time checks: lam only as a setting, the model fits the data's labels, exact
        local solves only for linear regression, a mapped target only for classifiers, and the
        attack's own preconditions (which regularizer and loss it is derived for)."""
        sc: PflSettings = scenario.settings  # type: ignore[assignment]
        defense = scenario.defense.aggregator
        if "lam" in defense.params:
            raise ValueError(f"defense {defense.label}: set lam as the protocol setting 'lam', "
                             "not as a regularizer parameter")
        regularizers.make(defense.name, **defense.params)
        task = pfl_datasets.entry(scenario.dataset.name).factory.task
        loss_type = pfl_models.entry(scenario.model.name).factory
        if loss_type.task != task:
            raise ValueError(f"model {scenario.model.label} learns {loss_type.task} labels; "
                             f"dataset {scenario.dataset.label} has {task} labels")
        if sc.local == "exact" and loss_type is not LinearRegression:
            raise ValueError(f"local: exact local optimization needs the quadratic loss linreg, "
                             f"got {scenario.model.label}")
        if sc.target == "mapped" and task != "multiclass":
            raise ValueError(f"target: mapped (a -> a+1 mod K) needs class labels; dataset "
                             f"{scenario.dataset.label} has {task} labels")
        attack = pfl_attacks.make(scenario.attack.name, **scenario.attack.params)
        check_attack(attack, scenario, loss_type)

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None) -> Outcome:
        return execute(scenario, seeds, device, progress)


def check_attack(attack: object, scenario: Scenario, loss_type: type) -> None:
    """The attack's derivation applies to this regularizer and loss (else a clear error)."""
    squared = scenario.defense.aggregator.name == "l2sq"
    label = scenario.attack.label
    source = getattr(attack, "source", "target")
    if isinstance(attack, CounterGradientModel | SinglePoint) or source in ("rehearsal", "exact"):
        if not squared:
            raise ValueError(f"attack {label}: {NEEDS_SQUARED}, got "
                             f"{scenario.defense.aggregator.label}")
    if (isinstance(attack, SinglePoint) or source == "exact") and loss_type is not \
            LinearRegression:
        raise ValueError(f"attack {label}: the exact honest pull needs linreg, got "
                         f"{scenario.model.label}")
    if isinstance(attack, IndifferenceSubspace) and loss_type is not SoftmaxClassifier:
        raise ValueError(f"attack {label}: needs the softmax model, got {scenario.model.label}")
    if isinstance(attack, LabelMapping) and loss_type is not SoftmaxClassifier:
        raise ValueError(f"attack {label}: relabels classes; needs softmax, got "
                         f"{scenario.model.label}")

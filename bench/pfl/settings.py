"""Settings of the ``pfl`` protocol (seed 004 §2.2): users, regularization, server and target.

Every field is validated at construction with the field and value named, so a grid with
``lam: 0`` or ``users: 1`` fails at load rather than in the middle of a run.

``aggregator`` goes beyond seed 004, which evaluates no robust aggregation rule: a registered
FL aggregator (``cc``, ``tm``, ``cm``, ...) replaces the server's sum of the kept reports by
k * rule(kept reports) (:func:`bench.pfl.server.aggregate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import bench.aggregators  # noqa: F401  (registers the rules ``aggregator`` may name)
from bench.pfl.federation import FORMS
from bench.pfl.local import MODES
from bench.registry import Registry, aggregators
from bench.run import Settings, SettingsError, check_choice, check_int, check_number
from bench.scenario import Component, format_value

TARGETS = ("random", "mapped")
#: how the sum/mean form shows in test ids: the seed's "sum" and "E" (expectation); "mean" is an
#: aggregator's registered name and may not appear in ids of cases that do not use it
FORM_LABELS = {"sum": "sum", "mean": "exp"}


@dataclass(frozen=True)
class PflSettings(Settings):
    """``users`` honest users (N >= 2) and at most one strategic user; regularizer weight
    ``lam`` > 0; ``rounds`` server steps rho <- rho - ``step`` * sum_n g_n (eta > 0); local
    models updated by ``local`` mode ``exact`` (argmin, linear regression only) or ``step`` (one
    gradient step of size ``local_lr``); the local data term as a ``form`` ``sum`` or ``mean``;
    local weight ``nu`` >= 0 on ||theta_n||^2.

    The attacker's target theta^dagger is ``random`` (``target_scale`` * N(0, I), drawn from the
    split seed) or ``mapped``: the model fitted to the attacker's own pool relabelled
    a -> (a + 1) mod K (seed 004 §5.1), for classifiers; ``target_fit`` gradient steps of size
    ``target_lr`` on the mean cross-entropy fit it.

    ``aggregator`` (beyond the seed; default none: the seed's sum) names a registered FL
    aggregation rule, built with f = 1 (the one strategic user), that replaces the sum.
    """

    component_registries: ClassVar[dict[str, Registry]] = {"aggregator": aggregators}

    users: int = 10
    lam: float = 1.0
    step: float = 0.01
    rounds: int = 300
    local: str = "step"
    local_lr: float = 0.01
    form: str = "sum"
    nu: float = 0.0
    target: str = "random"
    target_scale: float = 3.0
    target_fit: int = 300
    target_lr: float = 0.5
    aggregator: Component | None = None

    def __post_init__(self) -> None:
        check_int(self.users, "users", 2)
        check_number(self.lam, "lam", 0, low_open=True)
        check_number(self.step, "step", 0, low_open=True)
        check_int(self.rounds, "rounds", 1)
        check_choice(self.local, "local", MODES)
        check_number(self.local_lr, "local_lr", 0, low_open=True)
        check_choice(self.form, "form", FORMS)
        check_number(self.nu, "nu", 0)
        check_choice(self.target, "target", TARGETS)
        check_number(self.target_scale, "target_scale", 0, low_open=True)
        check_int(self.target_fit, "target_fit", 1)
        check_number(self.target_lr, "target_lr", 0, low_open=True)
        if isinstance(self.aggregator, str):
            object.__setattr__(self, "aggregator", Component(self.aggregator))
        if self.aggregator is not None:
            if not isinstance(self.aggregator, Component):
                raise SettingsError(f"aggregator must be a rule name or component, got "
                                    f"{self.aggregator!r}")
            if self.aggregator.name not in aggregators:
                raise SettingsError(f"aggregator: unknown rule {self.aggregator.name!r}; "
                                    f"known: {', '.join(aggregators.names())}")

    def component_slots(self) -> Iterator[tuple[str, Registry, Component]]:
        """The ``aggregator`` slot, when one is set."""
        if self.aggregator is not None:
            yield "aggregator", aggregators, self.aggregator

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "settings") -> Settings:
        """As the base, reading ``aggregator: null`` (a record without a rule) as unset."""
        if isinstance(data, dict) and "aggregator" in data and data["aggregator"] is None:
            data = {k: v for k, v in data.items() if k != "aggregator"}
        return super().from_dict(data, where)

    def tail(self) -> list[str]:
        """``n10-lam1-eta0.01-t300-step-sum`` (+ ``nu0.1``, ``tgt-mapped`` or ``tgt3``, and
        ``agg`` + the rule's label where an aggregator replaces the sum)."""
        parts = [f"n{self.users}", f"lam{format_value(self.lam)}",
                 f"eta{format_value(self.step)}", f"t{self.rounds}", self.local]
        if self.local == "step":
            parts[-1] = f"step{format_value(self.local_lr)}"
        parts.append(FORM_LABELS[self.form])
        if self.nu:
            parts.append(f"nu{format_value(self.nu)}")
        parts.append("mapped" if self.target == "mapped" else
                     f"tgt{format_value(self.target_scale)}")
        if self.aggregator is not None:
            parts.append(f"agg{self.aggregator.label}")
        return parts

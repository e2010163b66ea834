"""Settings of the ``retrain`` protocol: the poison budget, the target and the attack's budget.

The budget ``eps_d = |D_p| / n`` (seed 002 §2; ``lambda = eps_d / (1 + eps_d)`` is the poison's
share of the mixture) is given either absolutely (``epsilon``) or relative to the target's
threshold (``epsilon_over_tau``: ``eps_d = epsilon_over_tau * tau``, resolved at run time once
``tau`` is known).  Exactly one of the two is set, in (0, 1e3].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bench.registry import Registry, targets
from bench.run import Settings, SettingsError, check_choice, check_int, check_number
from bench.scenario import Component, format_value

DEFAULT_C_R = 1e-3
DEFAULT_EPOCHS = 1000  # seed 002 App. C.1
DEFAULT_LR = 0.5       # seed 002 App. C.1
DATA_SEEDS = ("split", "fixed")
MAX_EPSILON = 1e3


@dataclass(frozen=True)
class RetrainSettings(Settings):
    """``target`` (a :data:`~bench.registry.targets` component) is what the attack aims at;
    ``c_r`` is the victim's ``C_R`` (seed 001 eq. (1)); ``attack_epochs`` and ``attack_lr``
    go to poisoners that take them (their own explicit parameters win).  ``data_seed``:
    ``split`` draws the data set with the split seed, ``fixed`` always with seed 0 (then
    split seeds vary only the target and the poisons' initialisation)."""

    component_registries: ClassVar[dict[str, Registry]] = {"target": targets}

    target: Component = Component("gradpc")
    epsilon: float | None = None
    epsilon_over_tau: float | None = None
    c_r: float = DEFAULT_C_R
    attack_epochs: int = DEFAULT_EPOCHS
    attack_lr: float = DEFAULT_LR
    data_seed: str = "split"

    def __post_init__(self) -> None:
        if not isinstance(self.target, Component):
            raise SettingsError(f"target must be a target component, got {self.target!r}")
        if (self.epsilon is None) == (self.epsilon_over_tau is None):
            raise SettingsError("set exactly one of epsilon and epsilon_over_tau, got "
                                f"epsilon={self.epsilon!r}, "
                                f"epsilon_over_tau={self.epsilon_over_tau!r}")
        for name in ("epsilon", "epsilon_over_tau"):
            value = getattr(self, name)
            if value is not None:
                check_number(value, name, 0, MAX_EPSILON, low_open=True)
        check_number(self.c_r, "c_r", 0, low_open=True)
        check_int(self.attack_epochs, "attack_epochs", 1)
        check_number(self.attack_lr, "attack_lr", 0, low_open=True)
        check_choice(self.data_seed, "data_seed", DATA_SEEDS)

    def resolve_epsilon(self, tau: float) -> float:
        """``eps_d``: ``epsilon``, or ``epsilon_over_tau * tau`` checked to lie in (0, 1e3]."""
        if self.epsilon is not None:
            return float(self.epsilon)
        eps = float(self.epsilon_over_tau) * tau
        if not 0 < eps <= MAX_EPSILON:
            raise SettingsError(f"epsilon_over_tau={self.epsilon_over_tau} times tau={tau:.4g} "
                                f"gives eps_d={eps:.4g}, outside (0, {MAX_EPSILON:g}]; set "
                                "epsilon instead")
        return eps

    def data_seed_of(self, split: int) -> int:
        return split if self.data_seed == "split" else 0

    def head(self) -> list[str]:
        return [self.target.label]

    def tail(self) -> list[str]:
        if self.epsilon is not None:
            parts = [f"eps{format_value(self.epsilon)}"]
        else:
            parts = [f"eps{format_value(self.epsilon_over_tau)}tau"]
        if self.c_r != DEFAULT_C_R:
            parts.append(f"cr{format_value(self.c_r)}")
        if self.attack_epochs != DEFAULT_EPOCHS:
            parts.append(f"ep{self.attack_epochs}")
        if self.attack_lr != DEFAULT_LR:
            parts.append(f"lr{format_value(self.attack_lr)}")
        if self.data_seed != "split":
            parts.append(f"data{self.data_seed}")
        return parts

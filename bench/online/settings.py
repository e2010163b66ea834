"""Settings of the ``online`` protocol: the stream's lengths, the poison budget, the tricks and the
federated variant (seed 000, Table 1 and Appendix C).

Every field is validated at construction with the field and value named, so a grid with
``eps: -0.1`` or ``attacked: 200`` fails at load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bench.online.perturb import NORMS
from bench.registry import Registry, perturbations, threatmodels
from bench.run import Settings, SettingsError, check_choice, check_int, check_number
from bench.scenario import Component, format_value

TRIGGERS = ("clean", "poisoned")
PIXEL_LEVELS = 255


def format_budget(eps: float) -> str:
    """``eps`` as ids show it: ``8of255`` for a whole number of pixel levels, else the value."""
    levels = eps * PIXEL_LEVELS
    if eps > 0 and abs(levels - round(levels)) < 1e-9:
        return f"{round(levels)}of{PIXEL_LEVELS}"
    return format_value(eps)


@dataclass(frozen=True)
class OnlineSettings(Settings):
    """One stream of ``batch_size`` batches: ``burnin_batches`` clean SGD steps at ``burnin_lr``
    (default ``lr``; SGD momentum 0.9), then (attack ``accumulative``) ``accumulative_batches``
    poisoned steps with SGD momentum ``weight_momentum`` (0: the trick off), then one trigger
    batch, ``clean`` or
    ``poisoned`` (``trigger``).  Poisons are crafted by ``perturbation`` (a registered one; its
    ``eps`` and ``norm`` are the fields here, ℓ∞ 8/255 by default); ``optimize_trigger``
    re-crafts the poisoned trigger after every accumulative step (Table 1's "optimizing P").

    Federated variant (``threat`` set, a registered threat model): each batch is split among
    ``clients`` N clients (default: every sample a client, N = ``batch_size``) and the
    ``attacked`` M of them send the recovered offset for ``G_poi = offset_scale · ∇_θ A(θ)``.
    The online phase and the trigger step run at ``lr``.
    ``max_train`` caps the training pool (a deterministic subset by the split seed).
    """

    component_registries: ClassVar[dict[str, Registry]] = {"perturbation": perturbations}
    derived: ClassVar[dict[str, tuple[str, ...]]] = {
        "variant": ("threat",), "budget": ("trigger", "eps", "norm"),
        "tricks": ("weight_momentum", "optimize_trigger")}

    batch_size: int = 100
    burnin_batches: int = 200
    accumulative_batches: int = 20
    lr: float = 0.1
    burnin_lr: float | None = None
    eps: float = 8 / 255
    norm: str = "linf"
    perturbation: Component = Component("pgd")
    trigger: str = "poisoned"
    weight_momentum: float = 0.0
    optimize_trigger: bool = False
    threat: Component | None = None
    clients: int | None = None
    attacked: int = 1
    offset_scale: float = 0.01
    max_train: int | None = None

    def __post_init__(self) -> None:
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.burnin_batches, "burnin_batches", 0)
        check_int(self.accumulative_batches, "accumulative_batches", 1)
        check_number(self.lr, "lr", 0, low_open=True)
        if self.burnin_lr is not None:
            check_number(self.burnin_lr, "burnin_lr", 0, low_open=True)
        check_number(self.eps, "eps", 0)
        check_choice(self.norm, "norm", NORMS)
        if not isinstance(self.perturbation, Component):
            raise SettingsError(f"perturbation must be a perturbation component, got "
                                f"{self.perturbation!r}")
        fixed = sorted({"eps", "norm"} & set(self.perturbation.params))
        if fixed:
            raise SettingsError(f"perturbation: set {', '.join(fixed)} as the setting(s) "
                                f"{', '.join(fixed)}, not as parameters of "
                                f"{self.perturbation.name}")
        check_choice(self.trigger, "trigger", TRIGGERS)
        check_number(self.weight_momentum, "weight_momentum", 0, 1, high_open=True)
        if not isinstance(self.optimize_trigger, bool):
            raise SettingsError(f"optimize_trigger must be true or false, got "
                                f"{self.optimize_trigger!r}")
        if self.optimize_trigger and self.trigger != "poisoned":
            raise SettingsError("optimize_trigger re-crafts the poisoned trigger: it needs "
                                f"trigger: poisoned, got trigger: {self.trigger}")
        if self.max_train is not None:
            check_int(self.max_train, "max_train", 1)
        self._check_federated()

    def _check_federated(self) -> None:
        check_number(self.offset_scale, "offset_scale", 0)
        check_int(self.attacked, "attacked", 1)
        if self.threat is None:
            if self.clients is not None:
                raise SettingsError(f"clients={self.clients} needs a threat model (threat), "
                                    "the federated variant")
            return
        if not isinstance(self.threat, Component):
            raise SettingsError(f"threat must be a threat-model component, got {self.threat!r}")
        try:
            threatmodels.make(self.threat.name, **self.threat.params)
        except (TypeError, ValueError) as err:
            raise SettingsError(f"threat: {err}") from None
        check_int(self.federated_clients, "clients", 1)
        if self.batch_size % self.federated_clients:
            raise SettingsError(f"clients={self.federated_clients} must divide "
                                f"batch_size={self.batch_size} (equal shares of a batch)")
        if self.attacked > self.federated_clients:
            raise SettingsError(f"attacked (M={self.attacked}) must be <= clients "
                                f"(N={self.federated_clients})")

    @classmethod
    def from_dict(cls, data, where: str = "settings") -> OnlineSettings:  # noqa: ANN001
        """As :meth:`Settings.from_dict`, with ``threat`` parsed as a component too."""
        if isinstance(data, dict) and data.get("threat") is not None:
            data = {**data, "threat": Component.parse(data["threat"], f"{where}.threat")}
        return super().from_dict(data, where)  # type: ignore[return-value]

    def component_slots(self):  # noqa: ANN201
        yield "perturbation", perturbations, self.perturbation
        if self.threat is not None:
            yield "threat", threatmodels, self.threat

    @property
    def federated_clients(self) -> int:
        """N: ``clients``, or every sample of a batch a client."""
        return self.batch_size if self.clients is None else self.clients

    @property
    def variant(self) -> str:
        """``stream`` (online learning) or the federated variant's threat model."""
        return "stream" if self.threat is None else f"federated {self.threat.label}"

    @property
    def budget(self) -> str:
        """The trigger and ε as Table 1 groups them: ``poisoned trigger, eps 8/255``; a clean
        trigger has no ε of its own, so its group names the accumulative batches' ε
        (``clean trigger (accumulative eps 0.1)``) and never joins a poisoned one."""
        levels = self.eps * PIXEL_LEVELS
        eps = (f"{round(levels)}/{PIXEL_LEVELS}" if self.eps > 0
               and abs(levels - round(levels)) < 1e-9 else format_value(self.eps))
        eps += " (l2)" if self.norm == "l2" else ""
        if self.trigger == "clean":
            return f"clean trigger (accumulative eps {eps})"
        return f"poisoned trigger, eps {eps}"

    @property
    def tricks(self) -> str:
        """The accumulative phase's tricks as ids show them: ``wm0.9``, ``wm0.0-optp``."""
        return f"wm{format_value(self.weight_momentum)}" + ("-optp" if self.optimize_trigger
                                                           else "")

    def head(self) -> list[str]:
        """``stream`` or the threat model, then the perturbation and its budget."""
        where = "stream" if self.threat is None else self.threat.label
        budget = f"eps{format_budget(self.eps)}" + ("l2" if self.norm == "l2" else "")
        return [where, self.perturbation.label, budget]

    def tail(self) -> list[str]:
        """The trigger, the tricks, then the stream's lengths and (federated) M of N."""
        parts = [f"{self.trigger}trigger", f"wm{format_value(self.weight_momentum)}"]
        if self.optimize_trigger:
            parts.append("optp")
        parts.append(f"b{self.batch_size}x{self.burnin_batches}a{self.accumulative_batches}")
        if self.threat is not None:
            parts.append(f"m{self.attacked}of{self.federated_clients}")
        return parts

"""Settings of the federated protocols: the clients, their budget and the server step.

:class:`FederatedSettings` holds what FedSGD and FedAvg share; each protocol extends it.  Every
field is validated at construction with the field and value named, so a grid with ``n: 10.5`` or
``lr: -0.1`` fails at load rather than in the middle of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bench.registry import Registry, partitioners
from bench.run import Settings, SettingsError, check_choice, check_int, check_number
from bench.scenario import Component, format_value

ENGINES = ("auto", "vmap", "sequential")


@dataclass(frozen=True)
class FederatedSettings(Settings):
    """``n`` clients of which the last ``f`` (of a random partition by ``split``) are
    Byzantine; minibatches of ``batch_size``; ``epochs`` passes over the training pool with
    learning rate ``lr`` multiplied by ``lr_gamma`` at each epoch in ``lr_milestones``.
    ``max_train`` caps the training pool (a deterministic subset) for fast tiers; ``engine``
    computes the client gradients (``auto`` picks per model and device).
    """

    component_registries: ClassVar[dict[str, Registry]] = {"split": partitioners}

    split: Component = Component("iid")
    n: int = 25
    f: int = 5
    batch_size: int = 32
    epochs: float = 100
    lr: float = 0.1
    lr_milestones: tuple[float, ...] = (75,)
    lr_gamma: float = 0.1
    engine: str = "auto"
    max_train: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.split, Component):
            raise SettingsError(f"split must be a partitioner component, got {self.split!r}")
        check_int(self.n, "n", 1)
        check_int(self.f, "f", 0)
        if self.f >= self.n:
            raise SettingsError(f"f must be < n, got f={self.f}, n={self.n}")
        check_int(self.batch_size, "batch_size", 1)
        check_number(self.epochs, "epochs", 0, low_open=True)
        check_number(self.lr, "lr", 0, low_open=True)
        if not isinstance(self.lr_milestones, tuple):
            raise SettingsError(f"lr_milestones must be a list of epochs, got "
                                f"{self.lr_milestones!r}")
        for i, milestone in enumerate(self.lr_milestones):
            check_number(milestone, f"lr_milestones[{i}]", 0)
        check_number(self.lr_gamma, "lr_gamma", 0, low_open=True)
        check_choice(self.engine, "engine", ENGINES)
        if self.max_train is not None:
            check_int(self.max_train, "max_train", 1)

    def head(self) -> list[str]:
        return [self.split.label]

    def learning_rate(self, epoch: float) -> float:
        """``lr * lr_gamma^k`` with ``k`` the number of milestones at or before ``epoch``."""
        passed = sum(1 for m in self.lr_milestones if epoch >= m)
        return self.lr * self.lr_gamma**passed


@dataclass(frozen=True)
class FedSGDSettings(FederatedSettings):
    """Seed 003's Algorithm 1 adds worker momentum ``beta`` in [0, 1)."""

    beta: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(self.beta, "beta", 0, 1, high_open=True)

    def tail(self) -> list[str]:
        return [f"n{self.n}f{self.f}", f"b{format_value(self.beta)}"]


@dataclass(frozen=True)
class FedAvgSettings(FederatedSettings):
    """FedAvg adds ``local_steps`` (K) minibatch steps per round at the scheduled ``lr`` with
    local momentum ``local_momentum``, a ``participation`` fraction of clients sampled per round
    and the server step ``server_lr``."""

    local_steps: int = 5
    local_momentum: float = 0.0
    participation: float = 1.0
    server_lr: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int(self.local_steps, "local_steps", 1)
        check_number(self.local_momentum, "local_momentum", 0, 1, high_open=True)
        check_number(self.participation, "participation", 0, 1, low_open=True)
        check_number(self.server_lr, "server_lr", 0, low_open=True)
        if self.sampled < 1:
            raise SettingsError(f"participation {self.participation} of n={self.n} clients "
                                "samples no client per round")

    @property
    def sampled(self) -> int:
        """Clients taking part in each round: ``round(participation * n)``."""
        return round(self.participation * self.n)

    def tail(self) -> list[str]:
        parts = [f"n{self.n}f{self.f}", f"k{self.local_steps}"]
        if self.participation != 1:
            parts.append(f"p{format_value(self.participation)}")
        if self.local_momentum:
            parts.append(f"lm{format_value(self.local_momentum)}")
        if self.server_lr != 1:
            parts.append(f"slr{format_value(self.server_lr)}")
        return parts

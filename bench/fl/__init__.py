"""The Byzantine-FL track: protocols ``fedsgd`` and ``fedavg`` and their client engines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.fl import engines, fedavg, fedsgd  # noqa: F401
from bench.fl.fedavg import FedAvg
from bench.fl.fedsgd import FedSGD

if TYPE_CHECKING:
    from bench.scenario import Scenario

__all__ = ["FedAvg", "FedSGD", "federated_scenario"]


def federated_scenario(protocol: str = "fedsgd", *, dataset, model, defense, attack,
                       **settings) -> Scenario:
    """A scenario of a federated protocol from flat keywords: the core components, and every
    other keyword as one of the protocol's settings (``n``, ``f``, ``split``, ``beta``, ...)."""
    from bench.run import protocol_of
    from bench.scenario import Scenario

    kind = protocol_of(protocol).settings
    return Scenario(protocol, dataset, model, defense, attack, kind(**settings))

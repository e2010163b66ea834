"""The ``none`` entries of the poisoning track: no poisons, and a victim that keeps every point.

They are the baselines of the ``retrain`` protocol's tables: ``none`` as attack retrains on the
clean set only (drop 0 by construction); ``none`` as defense trains on the whole mixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from bench.poisoning.gradient_canceling import Poisons
from bench.poisoning.objective import Objective, ParamDict
from bench.registry import poisoners, sanitizers


@poisoners.register("none", tags={"baseline"})
@dataclass(frozen=True)
class NoPoisons:
    """No attack: zero poison points, whatever ``eps_d`` the scenario names."""

    curve_name: ClassVar[str] = "mixture_grad_norm"

    def poison(self, objective: Objective, target: ParamDict, clean: ParamDict, x: Tensor,
               y: Tensor, eps_d: float, lower: float | None, upper: float | None,
               seed: int) -> Poisons:
        return Poisons(x[:0].clone(), y[:0].clone(), [])


@sanitizers.register("none", tags={"baseline"})
@dataclass(frozen=True)
class KeepEverything:
    """No defense: the victim trains on every point it is given."""

    def keep(self, objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
             remove: int) -> Tensor:
        return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)

r"""Training-set sanitizers run by the victim before retraining (seed 002 App. C.10, §5.4).

**Sever** (Diakonikolas et al., ICML 2019; seed 002 cites the 2016 robust-estimation paper):
with per-sample gradients ``g_i`` of the victim's loss at the model trained on the whole
(poisoned) set, centre them, take the top right singular vector ``v`` of the centred matrix and
score each point by ``s_i = <g_i - mean_j g_j, v>^2``; remove the ``remove`` highest-scoring
points and retrain.  Reading of "remove eps_d points": ``remove = round(eps_d n)``, the number
of poisons added, in one pass (no iteration; seed 002 does not say).  ``layers="last"`` takes
the gradients of the last layer only (its weight and bias), which keeps the ``[n, p]`` matrix of
a network in memory (the NN's full matrix at seed 002's scale would need ~150 GB); seed 002 does
not say which parameters its networks' Sever used.

.. math::

    s_i = \big\langle g_i - \bar g,\; v_1(G - \mathbf 1 \bar g^\top)\big\rangle^2 .
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from bench.poisoning.objective import Objective, ParamDict, last_layer_names
from bench.registry import sanitizers

SEVER_LAYERS = ("all", "last")


class SanitizerError(ValueError):
    """A sanitizer asked to remove an impossible number of points."""


def sever_scores(gradients: Tensor) -> Tensor:
    """``s_i`` of the module docstring for the ``[n, p]`` per-sample gradient matrix."""
    centred = gradients - gradients.mean(dim=0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return (centred @ vh[0]) ** 2


def keep_lowest(scores: Tensor, remove: int) -> Tensor:
    """Boolean mask keeping all but the ``remove`` highest scores (ties: lowest index kept)."""
    n = scores.shape[0]
    if not 0 <= remove < n:
        raise SanitizerError(f"remove must lie in [0, {n}), got {remove}")
    keep = torch.ones(n, dtype=torch.bool, device=scores.device)
    if remove:
        order = torch.argsort(scores, descending=True, stable=True)
        keep[order[:remove]] = False
    return keep


@sanitizers.register("sever", tags={"spectral"})
@dataclass(frozen=True)
class Sever:
    """Sever (Diakonikolas et al. 2019): drop the top-scoring points along the top gradient
    singular direction, once; ``layers`` is ``"all"`` or ``"last"`` (module docstring)."""

    layers: str = "all"

    def __post_init__(self) -> None:
        if self.layers not in SEVER_LAYERS:
            raise SanitizerError(f"sever: layers must be one of {SEVER_LAYERS}, got "
                                 f"{self.layers!r}")

    def keep(self, objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
             remove: int) -> Tensor:
        names = last_layer_names(params) if self.layers == "last" else None
        gradients = objective.per_sample_gradients(params, x, y, names)
        return keep_lowest(sever_scores(gradients), remove)

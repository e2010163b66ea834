r"""Influence-based removal (Koh & Liang, ICML 2017 §5.4; seed 002 App. C.10).

Koh & Liang rank training points by their *self-influence*, the first-order change of a point's
own loss when it is up-weighted, ``-I_up,loss(z_i, z_i)``; seed 002 removes the ``eps_d``
points with the highest influence values.  With ``g_i`` the per-sample loss gradient at the model
fitted on the (poisoned) mixture and ``H`` the Hessian of the victim's whole objective there
(mean loss + ``C_R/2 ||w||^2``), the score is

.. math::

    s_i = g_i^\top (H + \delta I)^{-1} g_i ,

removing the ``remove = round(eps_d n)`` highest scores in one pass (the reading of Sever in
:mod:`bench.poisoning.sanitizers`).  ``delta`` (``damping``, 0 by default) is Koh & Liang's
damping for non-convex models.  ``H`` is formed exactly on the **last layer** (the parameters
named last in the victim's dict: ``w, b`` of a linear victim, ``wout, bout`` of a network, as
Koh & Liang's top-layer Inception experiment), capped at ``max_params`` so the dense solve stays
small; a larger layer is refused, never approximated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from bench.poisoning.objective import Objective, ParamDict, flatten, last_layer_names
from bench.poisoning.sanitizers import SanitizerError, keep_lowest
from bench.registry import sanitizers


def self_influence_scores(objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
                          names: tuple[str, ...], damping: float = 0.0) -> Tensor:
    """``s_i`` of the module docstring over the parameters ``names`` (the rest held fixed)."""
    fixed = {k: v.detach() for k, v in params.items()}
    shapes = [fixed[k].shape for k in names]
    sizes = [fixed[k].numel() for k in names]

    def substitute(vector: Tensor) -> ParamDict:
        parts = torch.split(vector, sizes)
        return {**fixed, **{k: p.reshape(s) for k, p, s in zip(names, parts, shapes,
                                                                 strict=True)}}

    def objective_value(vector: Tensor) -> Tensor:
        theta = substitute(vector)
        reg = sum(theta[k].pow(2).sum() for k in names if k in objective.regularized)
        return objective.losses(theta, x, y).mean() + 0.5 * objective.c_r * reg

    base = flatten({k: fixed[k] for k in names})
    hessian = torch.autograd.functional.hessian(objective_value, base)
    hessian = hessian + damping * torch.eye(base.numel(), dtype=base.dtype, device=base.device)
    per_sample = objective.per_sample_gradients(params, x, y, names)
    solved = torch.linalg.solve(hessian, per_sample.T)
    return (per_sample * solved.T).sum(dim=1)


@sanitizers.register("ihvp", tags={"influence"})
@dataclass(frozen=True)
class SelfInfluenceRemoval:
    """Koh & Liang (2017) influence removal: drop the highest self-influence points, once."""

    damping: float = 0.0
    max_params: int = 2000

    def __post_init__(self) -> None:
        if not self.damping >= 0:
            raise SanitizerError(f"damping must be >= 0, got {self.damping!r}")
        if not (isinstance(self.max_params, int) and self.max_params >= 1):
            raise SanitizerError(f"max_params must be an integer >= 1, got {self.max_params!r}")

    def keep(self, objective: Objective, params: ParamDict, x: Tensor, y: Tensor,
             remove: int) -> Tensor:
        names = last_layer_names(params)
        size = sum(params[k].numel() for k in names)
        if size > self.max_params:
            raise SanitizerError(f"ihvp: last layer {names} has {size} parameters > max_params="
                                 f"{self.max_params} (dense Hessian refused)")
        scores = self_influence_scores(objective, params, x, y, names, self.damping)
        if not bool(torch.isfinite(scores).all()):
            raise SanitizerError("ihvp: singular Hessian (scores not finite); set damping > 0")
        return keep_lowest(scores, remove)

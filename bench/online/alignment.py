"""Objectives of the accumulative poisoning attack (Pang et al., NeurIPS 2021).

The seed (000) holds only the appendix; these objectives come from the authors' public code,
``ShawnXYang/AccumulativeAttack`` (``online_accu_train.py``, summarised in the notes §II.3.4)
[EXTERNAL].  With ``L`` the cross-entropy, ``n(v) = v / ||v||_2`` and ``θ_l`` the model's
parameter tensors:

* alignment of the trigger batch with a validation batch,
  ``A(θ) = Σ_l <n(∇_{θ_l} L(B_tri)), n(∇_{θ_l} L(B_val))>``; a negative ``A`` means one SGD step
  on the trigger raises the validation loss (to first order);
* the poisoned trigger descends on ``A`` over the trigger's inputs;
* each accumulative-phase batch ``B_tr`` is perturbed to ascend
  ``Σ_l <n(∇_{θ_l} L(x_adv)), γ n(∇_{θ_l} L(B_tr)) + n(s_l)>`` with ``s = ∇_θ A(θ)``: the SGD step
  on the poisoned batch then lowers ``A`` (builds trigger sensitivity), while the ``γ`` term keeps
  it close to the clean step (stealth).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.online.perturb import Objective, Perturbation

Batch = tuple[Tensor, Tensor]


def parameter_gradients(model: nn.Module, batch: Batch, create_graph: bool) -> list[Tensor]:
    """``∇_{θ_l} L(batch)`` for every trainable parameter tensor of ``model``."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = F.cross_entropy(model(batch[0]), batch[1])
    return list(torch.autograd.grad(loss, params, create_graph=create_graph))


def layer_cosines(grads: Sequence[Tensor], directions: Sequence[Tensor]) -> Tensor:
    """``Σ_l <n(g_l), n(d_l)>``, the per-layer cosine similarities summed."""
    return sum(
        F.normalize(g.flatten(), dim=0) @ F.normalize(d.flatten(), dim=0)
        for g, d in zip(grads, directions, strict=True)
    )


def alignment(model: nn.Module, trigger: Batch, validation: Batch,
              create_graph: bool = False) -> Tensor:
    """``A(θ)``: trigger-validation gradient alignment (module docstring)."""
    g_val = [g.detach() for g in parameter_gradients(model, validation, create_graph=False)]
    g_tri = parameter_gradients(model, trigger, create_graph=True)
    value = layer_cosines(g_tri, g_val)
    return value if create_graph else value.detach()


def trigger_objective(model: nn.Module, labels: Tensor, validation: Batch) -> Objective:
    """``x -> -A(θ)`` over the trigger inputs ``x`` (perturbations maximize: they descend ``A``)."""
    g_val = [g.detach() for g in parameter_gradients(model, validation, create_graph=False)]

    def objective(x: Tensor) -> Tensor:
        return -layer_cosines(parameter_gradients(model, (x, labels), create_graph=True), g_val)

    return objective


def craft_trigger(model: nn.Module, trigger: Batch, validation: Batch,
                  perturbation: Perturbation, generator: torch.Generator | None = None) -> Tensor:
    """The poisoned trigger's inputs: ``perturbation`` descending on ``A`` (module docstring)."""
    return perturbation(trigger_objective(model, trigger[1], validation), trigger[0], generator)


def accumulative_objective(model: nn.Module, batch: Batch, trigger: Batch, validation: Batch,
                           gamma: float = 1.0) -> Objective:
    """``x -> Σ_l <n(∇_l L(x, y)), γ n(∇_l L(B_tr)) + n(s_l)>`` with ``s = ∇_θ A(θ)``."""
    params = [p for p in model.parameters() if p.requires_grad]
    second = torch.autograd.grad(alignment(model, trigger, validation, create_graph=True), params)
    clean = parameter_gradients(model, batch, create_graph=False)
    directions = [gamma * F.normalize(c.flatten(), dim=0) + F.normalize(s.flatten(), dim=0)
                  for c, s in zip(clean, second, strict=True)]
    labels = batch[1]

    def objective(x: Tensor) -> Tensor:
        grads = parameter_gradients(model, (x, labels), create_graph=True)
        return sum(F.normalize(g.flatten(), dim=0) @ d for g, d in zip(grads, directions,
                                                                      strict=True))

    return objective


def craft_accumulative(model: nn.Module, batch: Batch, trigger: Batch, validation: Batch,
                       perturbation: Perturbation, gamma: float = 1.0,
                       generator: torch.Generator | None = None) -> Tensor:
    """An accumulative-phase batch's poisoned inputs (module docstring)."""
    objective = accumulative_objective(model, batch, trigger, validation, gamma)
    return perturbation(objective, batch[0], generator)

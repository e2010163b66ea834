"""What the PFL track measures (seed 004 §5, Figs. 1-3 and 16-19).

* accuracy of a classifier on the true labels, and on the attacker's target labelling
  a -> (a + 1) mod K (the seed's "accuracy according to theta^dagger");
* distances: target_dist ||rho - theta^dagger||, l2_norm ||rho||, l2_dist ||rho - rho^0||,
  honest_dist (mean over honest users of ||rho - theta_n||), attack_dist ||rho - theta_s||;
* poison ratio |D_s| / sum_n |D_n|.
"""

from __future__ import annotations

import torch
from torch import Tensor


def accuracy(loss, model: Tensor, queries: Tensor, labels: Tensor) -> float:
    """Top-1 accuracy of ``model`` (flat parameters) on int ``labels``."""
    logits = loss.logits(model.unsqueeze(0), queries.unsqueeze(0))[0]
    return float((logits.argmax(dim=-1) == labels).to(torch.float64).mean())


def mapped_labels(labels: Tensor, classes: int) -> Tensor:
    """The target labelling a -> (a + 1) mod K of seed 004 §5.1."""
    return (labels + 1) % classes


def distances(rho: Tensor, target: Tensor, start: Tensor, honest: Tensor,
              attacker: Tensor | None) -> dict[str, float | None]:
    """target_dist, l2_norm, l2_dist, honest_dist (mean over rows of ``honest``), attack_dist."""
    return {
        "target_dist": float((rho - target).norm()),
        "l2_norm": float(rho.norm()),
        "l2_dist": float((rho - start).norm()),
        "honest_dist": float((rho - honest).norm(dim=-1).mean()),
        "attack_dist": None if attacker is None else float((rho - attacker).norm()),
    }


def poison_ratio(poison_points: int, honest_points: int) -> float:
    """|D_s| / (|D_s| + sum of the honest users' sizes)."""
    if poison_points < 0 or honest_points < 1:
        raise ValueError(f"need poison_points >= 0 and honest_points >= 1, got "
                         f"{poison_points}, {honest_points}")
    return poison_points / (poison_points + honest_points)

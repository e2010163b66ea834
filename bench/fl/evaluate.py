"""Test accuracy of the server model, with BatchNorm statistics recalibrated first."""

from __future__ import annotations

import torch
from torch import Tensor, nn


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x_train: Tensor, batches: int = 8, batch: int = 128,
                          generator: torch.Generator | None = None) -> None:
    """Re-estimate BatchNorm running statistics as the plain average over ``batches`` random
    training minibatches (clients never write running statistics; see bench.fl.engines)."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    for _ in range(batches):
        idx = torch.randint(0, x_train.shape[0], (batch,), generator=generator)
        model(x_train[idx.to(x_train.device)])
    model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 1024) -> float:
    """Fraction of ``x`` classified as ``y`` by ``model`` in eval mode."""
    model.eval()
    correct = 0
    for start in range(0, x.shape[0], batch):
        logits = model(x[start : start + batch])
        correct += int((logits.argmax(dim=1) == y[start : start + batch]).sum())
    return correct / x.shape[0]

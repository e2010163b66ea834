"""Client-gradient engines: every client's minibatch gradient at the broadcast model.

Both engines return ``Tensor[n, d]``, row ``i`` the flattened gradient of client ``i``'s
cross-entropy loss on its own minibatch, and agree to float32 round-off.  ``vmap`` computes all
clients in one vectorized call (``torch.func.vmap(grad(...))`` over a client axis: one kernel
launch per layer for all clients, which pays on a GPU); ``sequential`` loops over clients.

BatchNorm in the simulator: clients normalise with their own minibatch statistics (training
mode) and never write running statistics, because under ``vmap`` there is no per-client buffer
to write to.  The engines therefore run on a *twin* of the model whose BatchNorm layers keep no
running statistics (``torch.func.replace_all_batch_norm_modules_``).  Only parameters are
aggregated; evaluation recalibrates running statistics on training data
(:func:`bench.fl.evaluate.recalibrate_batchnorm`).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap
from torch.nn import functional as F

from bench.registry import engines

#: Layers whose per-client gradients ``vmap`` computes slower than a loop on a CPU.
CPU_LOOP_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def preferred_engine(model: nn.Module, device: torch.device) -> str:
    """The faster client-gradient engine for ``model`` on ``device``: "vmap" or "sequential".

    Measured with ``benchmarks/engine_speed.py`` (n = 25 clients, batch 32): on a CPU ``vmap``
    ran an MLP 784-100-10 2.9x faster than the loop but seed 003's CNN and ResNet-20 at
    0.4-0.8x, because a batched convolution over the client axis has no faster CPU kernel than
    the per-client ones; so on a CPU a model with any convolution takes the loop.  On CUDA the
    loop is launch-bound (one kernel per layer per client) and ``vmap`` is chosen for every
    model.
    """
    if device.type == "cpu" and any(isinstance(m, CPU_LOOP_LAYERS) for m in model.modules()):
        return "sequential"
    return "vmap"


def training_twin(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in training mode whose BatchNorm layers use batch statistics only."""
    twin = copy.deepcopy(model).train()
    torch.func.replace_all_batch_norm_modules_(twin)
    return twin


def flatten(tensors: dict[str, Tensor] | list[Tensor], leading: int) -> Tensor:
    """Concatenate per-parameter tensors into ``Tensor[leading, d]``."""
    values = tensors.values() if isinstance(tensors, dict) else tensors
    return torch.cat([t.reshape(leading, -1) for t in values], dim=1)


class GradientEngine:
    """Base: ``engine(params, x[n, B, ...], y[n, B]) -> Tensor[n, d]`` at one shared model, and
    :meth:`local` for per-client models (``params`` with a leading client axis), as FedAvg's
    local steps need."""

    def __init__(self, model: nn.Module) -> None:
        self.twin = training_twin(model)
        self.names = [name for name, _ in model.named_parameters()]

    def loss(self, params: dict[str, Tensor], xb: Tensor, yb: Tensor) -> Tensor:
        return F.cross_entropy(functional_call(self.twin, params, (xb,)), yb)

    def __call__(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def local(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError


@engines.register("vmap")
class VmapEngine(GradientEngine):
    """All clients' gradients in one ``vmap(grad(loss))`` call over the client axis."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        self._shared = vmap(grad(self.loss), in_dims=(None, 0, 0))
        self._local = vmap(grad(self.loss), in_dims=(0, 0, 0))

    def __call__(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return flatten(self._shared(params, x, y), x.shape[0])

    def local(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return flatten(self._local(params, x, y), x.shape[0])


@engines.register("sequential")
class SequentialEngine(GradientEngine):
    """One autograd call per client, in a Python loop (the reference engine)."""

    def __call__(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return torch.stack([self._gradient(params, xb, yb) for xb, yb in zip(x, y, strict=True)])

    def local(self, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return torch.stack([
            self._gradient({k: v[i] for k, v in params.items()}, x[i], y[i])
            for i in range(x.shape[0])
        ])

    def _gradient(self, params: dict[str, Tensor], xb: Tensor, yb: Tensor) -> Tensor:
        leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        grads = torch.autograd.grad(self.loss(leaves, xb, yb), list(leaves.values()))
        return torch.cat([g.reshape(-1) for g in grads])

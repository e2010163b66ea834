"""A victim's training objective in torch, for the attacks that differentiate through it.

Gradient canceling, gradient matching, GradPC and Sever need per-sample losses and parameter
gradients of the victim at a *fixed* model.  :class:`Objective` holds the model as a function of
named parameters, ``scores = forward(params, x)``, one of the losses below and the victim's
regularizer ``C_R/2 * sum ||p||^2`` over the parameters named in ``regularized`` (the weights, not
the biases, as seed 001 eq. (1)).  The objective of a weighted set is

    F(params) = mean_i l(scores_i, y_i) + C_R/2 * sum_{p in regularized} ||p||^2.

Losses: ``logistic`` ``log(1 + e^{-y s})`` and ``hinge`` ``max(0, 1 - y s)`` with ``y in ±1``;
``squared`` ``(s - y)^2 / 2``; ``softmax`` cross-entropy with integer labels.

``chunk`` (``None``: everything at once) bounds how many samples one pass differentiates, for
models whose activations over the whole set do not fit in memory (a ResNet on CIFAR-10): sums of
gradients are then accumulated over chunks, which changes nothing but the rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from bench.poisoning.convex import Params

LOSSES = ("logistic", "hinge", "squared", "softmax")
PER_SAMPLE_CHUNK = 1024  # samples per vectorised per-sample gradient pass
ParamDict = dict[str, Tensor]


def per_sample_loss(loss: str, scores: Tensor, y: Tensor) -> Tensor:
    """``l(s_i, y_i)`` for each sample (see the module docstring for the four losses)."""
    if loss == "softmax":
        return F.cross_entropy(scores, y.long(), reduction="none")
    s = scores.reshape(-1)
    if loss == "logistic":
        return F.softplus(-y * s)
    if loss == "hinge":
        return torch.relu(1.0 - y * s)
    if loss == "squared":
        return 0.5 * (s - y) ** 2
    raise ValueError(f"loss {loss!r} is not one of {', '.join(LOSSES)}")


def linear_forward(params: ParamDict, x: Tensor) -> Tensor:
    """``x w + b`` on flattened inputs (``w`` is ``[d]`` or ``[d, c]``)."""
    return x.reshape(x.shape[0], -1) @ params["w"] + params["b"]


@dataclass(frozen=True)
class Objective:
    """The victim's differentiable objective at fixed parameters (module docstring)."""

    forward: Callable[[ParamDict, Tensor], Tensor]
    loss: str
    c_r: float
    regularized: tuple[str, ...]
    chunk: int | None = None

    def __post_init__(self) -> None:
        if self.chunk is not None and not (isinstance(self.chunk, int) and self.chunk >= 1):
            raise ValueError(f"chunk must be None or an integer >= 1, got {self.chunk!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss {self.loss!r} is not one of {', '.join(LOSSES)}")
        if not (np.isfinite(self.c_r) and self.c_r >= 0):
            raise ValueError(f"c_r must be finite and >= 0, got {self.c_r}")

    def losses(self, params: ParamDict, x: Tensor, y: Tensor) -> Tensor:
        return per_sample_loss(self.loss, self.forward(params, x), y)

    def regularizer_grad(self, params: ParamDict) -> ParamDict:
        """``grad (C_R/2 sum ||p||^2)``: ``C_R p`` on the regularized parameters, 0 elsewhere."""
        return {k: self.c_r * v if k in self.regularized else torch.zeros_like(v)
                for k, v in params.items()}

    def loss_sum_grad(self, params: ParamDict, x: Tensor, y: Tensor,
                      create_graph: bool = False) -> ParamDict:
        """``sum_i grad l(x_i, y_i)`` w.r.t. every parameter (graph kept when asked; without a
        graph, accumulated over ``chunk`` samples at a time)."""
        leaves = {k: v if v.requires_grad else v.detach().requires_grad_(True)
                  for k, v in params.items()}
        size = max(1, x.shape[0] if create_graph or self.chunk is None else self.chunk)
        sums: list[Tensor] | None = None
        for start in range(0, max(1, x.shape[0]), size):
            total = self.losses(leaves, x[start:start + size], y[start:start + size]).sum()
            grads = torch.autograd.grad(total, list(leaves.values()), create_graph=create_graph)
            sums = list(grads) if sums is None else [a + b for a, b in zip(sums, grads,
                                                                            strict=True)]
        return dict(zip(leaves, sums, strict=True))

    def gradient(self, params: ParamDict, x: Tensor, y: Tensor) -> Tensor:
        """``grad F`` of the clean set as one flat vector (mean loss + regularizer)."""
        sums = self.loss_sum_grad(params, x, y)
        reg = self.regularizer_grad(params)
        return flatten({k: sums[k] / x.shape[0] + reg[k] for k in params})

    def per_sample_gradients(self, params: ParamDict, x: Tensor, y: Tensor,
                             names: tuple[str, ...] | None = None,
                             chunk: int | None = None) -> Tensor:
        """``[n, p]`` matrix of ``grad l(x_i, y_i)`` (no regularizer), via ``torch.func``.

        ``names`` restricts the gradient to those parameters (the rest held fixed; ``None``:
        all); samples are vectorised ``chunk`` at a time (default: the objective's ``chunk``,
        else :data:`PER_SAMPLE_CHUNK`), bounding the memory of large models.
        """
        detached = {k: v.detach() for k, v in params.items()}
        free = {k: detached[k] for k in (names or tuple(detached))}

        def one(xi: Tensor, yi: Tensor) -> Tensor:
            grads = torch.func.grad(lambda p: self.losses(
                {**detached, **p}, xi.unsqueeze(0), yi.unsqueeze(0)).sum())(free)
            return flatten(grads)

        size = chunk or self.chunk or PER_SAMPLE_CHUNK
        return torch.func.vmap(one, chunk_size=size)(x, y)


def last_layer_names(params: ParamDict) -> tuple[str, ...]:
    """The last layer's names: the two parameters named last (a weight and its bias)."""
    return tuple(params)[-2:]


def flatten(tensors: ParamDict) -> Tensor:
    return torch.cat([t.reshape(-1) for t in tensors.values()])


def linear_objective(loss: str, c_r: float) -> Objective:
    """A linear victim (logistic, hinge, squared or softmax regression) with free bias."""
    return Objective(linear_forward, loss, c_r, ("w",))


def params_to_torch(params: Params, dtype: torch.dtype = torch.float64) -> ParamDict:
    """:class:`~bench.poisoning.convex.Params` as a torch parameter dict ``{"w", "b"}``."""
    return {"w": torch.as_tensor(np.asarray(params.w), dtype=dtype),
            "b": torch.as_tensor(np.asarray(params.b), dtype=dtype)}


def params_from_torch(params: ParamDict) -> Params:
    return Params(w=params["w"].detach().cpu().double().numpy().copy(),
                  b=params["b"].detach().cpu().double().numpy().copy())

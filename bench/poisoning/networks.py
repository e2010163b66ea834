r"""Network victims of the ``retrain`` protocol: seed 002's NN and small CNN (§5.1, App. C.1).

- ``leakynet``: the paper's NN, three linear layers ``d -> hidden -> hidden -> c`` (hidden 784 by
  default) with LeakyReLU(0.2) between them;
- ``convnet``: the small CNN, two 3x3 convolutions (``channels``, stride 1, no padding, ReLU), one
  2x2 max-pool, then FC ``hidden`` (128) with ReLU and FC ``c``.  The paper gives neither the
  channels nor the activation, and says "one FC layer" (§5.1) and "two FC layers" (App. C.1);
  we read two FC layers (128 hidden) and take channels (16, 32) by default.  Inputs are the
  flattened square images of the data set (``features = s * s``).

Both are multiclass (softmax cross-entropy, integer labels) and trained in float64 with a stated
budget (seed 002 gives none for retraining): seeded PyTorch-default initialisation
(``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases), SGD with momentum 0.9, ``lr``
0.05, ``epochs`` 20 over seeded mini-batches of ``batch_size`` 128, on the objective
``mean CE + C_R/2 sum ||W_l||^2`` (weights only, as the convex victims).  A run whose training
loss becomes NaN or infinite raises :class:`NetworkDiverged`; nothing is recorded.

A network lives on the run's ``device`` (the protocol passes it; convex victims stay on the
CPU): its parameters, the data it is fitted on and the labels it returns are placed there, while
the initialisation and the mini-batch order are drawn on the CPU generator, so a seed gives the
same draws on every device.

Gradient canceling and ``||g(chi)||`` use the **whole parameter vector** (seed 002 Theorem 4's
``G`` stacks every layer's gradient).  ``tau`` is computed on the **last layer** from the
penultimate features ``phi`` (Theorem 4: a necessary condition only), ``tau(2)`` as the paper's
tables, with ``rho = C_R ||W_last||^2`` (:mod:`bench.poisoning.threshold`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from bench.poisoning import threshold as th
from bench.poisoning.objective import Objective, ParamDict, last_layer_names
from bench.poisoning.victims import VictimError
from bench.registry import victims

LEAKY_SLOPE = 0.2  # seed 002 App. C.1
MOMENTUM = 0.9


class NetworkDiverged(RuntimeError):
    """A network fit whose training loss became NaN or infinite."""


def _uniform(shape: tuple[int, ...], fan_in: int, g: torch.Generator) -> Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * 2.0 - 1.0) * bound


def leaky_features(params: ParamDict, x: Tensor) -> Tensor:
    """Penultimate features ``phi`` of ``leakynet``: two LeakyReLU(0.2) hidden layers."""
    h = x.reshape(x.shape[0], -1)
    for layer in ("1", "2"):
        h = F.leaky_relu(F.linear(h, params["w" + layer], params["b" + layer]), LEAKY_SLOPE)
    return h


def conv_features(params: ParamDict, x: Tensor) -> Tensor:
    """Penultimate features of ``convnet``: conv-ReLU, conv-ReLU, max-pool 2, FC-ReLU."""
    side = math.isqrt(x[0].numel())
    h = x.reshape(x.shape[0], 1, side, side)
    h = F.relu(F.conv2d(h, params["k1"], params["c1"]))
    h = F.max_pool2d(F.relu(F.conv2d(h, params["k2"], params["c2"])), 2)
    return F.relu(F.linear(h.flatten(1), params["w1"], params["b1"]))


def _head(params: ParamDict, phi: Tensor) -> Tensor:
    return F.linear(phi, params["wout"], params["bout"])


def leaky_forward(params: ParamDict, x: Tensor) -> Tensor:
    return _head(params, leaky_features(params, x))


def conv_forward(params: ParamDict, x: Tensor) -> Tensor:
    return _head(params, conv_features(params, x))


@dataclass(frozen=True)
class Budget:
    """The stated training budget: SGD-momentum 0.9, ``epochs`` of mini-batches, seeded."""

    epochs: int = 20
    lr: float = 0.05
    batch_size: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise VictimError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise VictimError(f"lr must be a positive finite number, got {self.lr!r}")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise VictimError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")


class NetworkVictim(ABC):
    """A multiclass network behind the protocol's victim interface (module docstring)."""

    name: str
    task = "multiclass"
    convex = None  # label-flip targets need an exact solver; networks have none
    chunk: int | None = None  # samples per pass (Objective.chunk); None: the whole set

    def __init__(self, c_r: float, classes: int, features: int, budget: Budget,
                 device: str | torch.device = "cpu") -> None:
        if classes < 2:
            raise VictimError(f"{self.name}: classes must be >= 2, got {classes}")
        if features < 1:
            raise VictimError(f"{self.name}: features must be >= 1, got {features}")
        self.c_r, self.classes, self.features, self.budget = c_r, classes, features, budget
        self.device = torch.device(device)
        self.objective = Objective(self.forward, "softmax", c_r, self.weight_names(), self.chunk)

    def __repr__(self) -> str:
        return (f"{self.name}(c_r={self.c_r}, classes={self.classes}, {self.budget}, "
                f"device={self.device})")

    def check(self, task: str) -> None:
        if task != self.task:
            raise VictimError(f"victim {self.name} needs a {self.task} data set, got {task}")

    def labels(self, y: np.ndarray) -> Tensor:
        return torch.as_tensor(y, dtype=torch.long, device=self.device)

    def inputs(self, x: np.ndarray) -> Tensor:
        """``x`` as float64 on the victim's device."""
        return torch.as_tensor(x, dtype=torch.float64, device=self.device)

    def fit(self, x: np.ndarray, y: np.ndarray, extra_x: np.ndarray | None = None,
            extra_y: np.ndarray | None = None) -> ParamDict:
        """Seeded SGD-momentum on ``(x, y)`` plus the extra points (the stated budget)."""
        if extra_x is not None:
            x, y = np.vstack([x, extra_x]), np.concatenate([y, extra_y])
        xs, ys = self.inputs(x), self.labels(y)
        g = torch.Generator().manual_seed(self.budget.seed)
        params = {k: v.to(self.device).requires_grad_(True) for k, v in self.initial(g).items()}
        optimizer = torch.optim.SGD(list(params.values()), lr=self.budget.lr, momentum=MOMENTUM)
        for epoch in range(self.budget.epochs):
            order = torch.randperm(len(ys), generator=g).to(self.device)
            for start in range(0, len(ys), self.budget.batch_size):
                batch = order[start:start + self.budget.batch_size]
                loss = self.objective.losses(params, xs[batch], ys[batch]).mean()
                loss = loss + 0.5 * self.c_r * sum(params[k].pow(2).sum()
                                                    for k in self.objective.regularized)
                if not bool(torch.isfinite(loss)):
                    value = float(loss.detach())
                    raise NetworkDiverged(f"victim {self.name}: training loss {value} at "
                                          f"epoch {epoch} (lr={self.budget.lr}); nothing is "
                                          "recorded for this run")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return {k: v.detach() for k, v in params.items()}

    def _evaluate(self, fn: Callable[[ParamDict, Tensor], Tensor], params: ParamDict,
                  x: np.ndarray) -> np.ndarray:
        """``fn(params, x)`` without a graph, ``chunk`` samples at a time, as a CPU array."""
        size = max(1, self.chunk or len(x))
        with torch.no_grad():
            parts = [fn(params, self.inputs(x[i:i + size])).cpu() for i in range(0, len(x), size)]
        return torch.cat(parts).double().numpy()

    def score(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        """Test accuracy of ``argmax`` of the logits."""
        logits = self._evaluate(self.forward, params, x)
        return float((logits.argmax(axis=1) == np.asarray(y)).mean())

    def tau(self, params: ParamDict, x: np.ndarray, y: np.ndarray) -> float:
        """Last-layer ``tau(2)`` from the penultimate features (seed 002 Theorem 4)."""
        phi = self._evaluate(self.penultimate, params, x)
        weight, bias = (params[k].detach().cpu().double() for k in last_layer_names(params))
        rho = self.c_r * float(weight.pow(2).sum())
        return th.tau_last_layer(phi, weight.numpy(), bias.numpy(),
                                 np.asarray(y), classes=2, rho=rho)

    @abstractmethod
    def weight_names(self) -> tuple[str, ...]:
        ...

    @abstractmethod
    def initial(self, g: torch.Generator) -> ParamDict:
        ...

    @abstractmethod
    def forward(self, params: ParamDict, x: Tensor) -> Tensor:
        ...

    @abstractmethod
    def penultimate(self, params: ParamDict, x: Tensor) -> Tensor:
        ...


@victims.register("leakynet", tags={"network", "multiclass"})
class LeakyNetVictim(NetworkVictim):
    """Seed 002's NN: 3 linear layers, hidden 784, LeakyReLU(0.2); SGD-momentum budget."""

    name = "leakynet"

    def __init__(self, c_r: float, classes: int, features: int, hidden: int = 784,
                 epochs: int = 20, lr: float = 0.05, batch_size: int = 128,
                 seed: int = 0, device: str | torch.device = "cpu") -> None:
        if hidden < 1:
            raise VictimError(f"leakynet: hidden must be >= 1, got {hidden}")
        self.hidden = hidden
        super().__init__(c_r, classes, features, Budget(epochs, lr, batch_size, seed), device)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, hidden={self.hidden})"

    def weight_names(self) -> tuple[str, ...]:
        return ("w1", "w2", "wout")

    def initial(self, g: torch.Generator) -> ParamDict:
        d, h, c = self.features, self.hidden, self.classes
        return {"w1": _uniform((h, d), d, g), "b1": _uniform((h,), d, g),
                "w2": _uniform((h, h), h, g), "b2": _uniform((h,), h, g),
                "wout": _uniform((c, h), h, g), "bout": _uniform((c,), h, g)}

    def forward(self, params: ParamDict, x: Tensor) -> Tensor:
        return leaky_forward(params, x)

    def penultimate(self, params: ParamDict, x: Tensor) -> Tensor:
        return leaky_features(params, x)


@victims.register("convnet", tags={"network", "multiclass"})
class ConvNetVictim(NetworkVictim):
    """Seed 002's small CNN: 2 conv 3x3, max-pool 2, FC 128, FC c; SGD-momentum budget."""

    name = "convnet"

    def __init__(self, c_r: float, classes: int, features: int,
                 channels: tuple[int, int] = (16, 32), hidden: int = 128, epochs: int = 20,
                 lr: float = 0.05, batch_size: int = 128, seed: int = 0,
                 device: str | torch.device = "cpu") -> None:
        side = math.isqrt(features)
        if side * side != features or side < 6:
            raise VictimError(f"convnet: features must be a square image of side >= 6, got "
                              f"{features}")
        if len(channels) != 2 or min(channels) < 1 or hidden < 1:
            raise VictimError(f"convnet: channels must be two positive ints and hidden >= 1, "
                              f"got {channels!r}, {hidden}")
        self.channels, self.hidden, self.side = tuple(channels), hidden, side
        super().__init__(c_r, classes, features, Budget(epochs, lr, batch_size, seed), device)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, channels={self.channels}, hidden={self.hidden})"

    def weight_names(self) -> tuple[str, ...]:
        return ("k1", "k2", "w1", "wout")

    def initial(self, g: torch.Generator) -> ParamDict:
        (a, b), h, c = self.channels, self.hidden, self.classes
        flat = b * ((self.side - 4) // 2) ** 2
        return {"k1": _uniform((a, 1, 3, 3), 9, g), "c1": _uniform((a,), 9, g),
                "k2": _uniform((b, a, 3, 3), 9 * a, g), "c2": _uniform((b,), 9 * a, g),
                "w1": _uniform((h, flat), flat, g), "b1": _uniform((h,), flat, g),
                "wout": _uniform((c, h), h, g), "bout": _uniform((c,), h, g)}

    def forward(self, params: ParamDict, x: Tensor) -> Tensor:
        return conv_forward(params, x)

    def penultimate(self, params: ParamDict, x: Tensor) -> Tensor:
        return conv_features(params, x)

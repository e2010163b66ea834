"""Target models for model-targeted poisoning (seed 002 §5, App. C; seed 001 §3).

- **GradPC** (gradient-based parameter corruption, Sun et al. 2020, as used by seed 002):
  normalized-gradient *ascent* on the victim's mean loss, ``delta <- delta + eta g / ||g||_2``,
  projected on the l2 ball of radius ``r = eps_w * ||theta_clean||_2`` after every step.
  Relative -> absolute rule (seed 002 says only "relative"): the radius is ``eps_w`` times the
  global l2 norm of *all* clean parameters (weights and biases); the step is ``eta = r / 10``.
- **RandomPC** (Sun et al. 2020): ``theta_clean + r u`` with ``u`` a seeded uniform direction on
  the unit sphere and the same radius rule (the reference code adds unscaled Gaussian noise; the
  sphere keeps the two corruptions comparable at equal ``eps_w``).
- **Label-flip** (seed 001 / Koh et al.): the victim retrained on the clean set plus flipped
  copies of a seeded ``rate`` fraction of its points.
- **Supplied**: any model, e.g. the output of another attack (seed 002 Table 9), checked to have
  the clean model's parameter names and shapes.

Every target is deterministic from its seed; :func:`cached` memoises them per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bench.poisoning.convex import ConvexVictim, Params
from bench.poisoning.objective import (
    Objective,
    ParamDict,
    flatten,
    params_to_torch,
)
from bench.registry import targets

_CACHE: dict[tuple, ParamDict] = {}


class TargetError(ValueError):
    """A target that does not fit the victim (names, shapes, budget)."""


def absolute_radius(clean: ParamDict, eps_w: float) -> float:
    """``r = eps_w * ||theta_clean||_2`` over every parameter (the relative -> absolute rule)."""
    if not (np.isfinite(eps_w) and eps_w > 0):
        raise TargetError(f"eps_w must be a positive finite number, got {eps_w!r}")
    return float(eps_w * flatten(clean).norm())


def _project(delta: Tensor, radius: float) -> Tensor:
    norm = float(delta.norm())
    return delta if norm <= radius else delta * (radius / norm)


def _unflatten(vector: Tensor, like: ParamDict) -> ParamDict:
    out, start = {}, 0
    for k, v in like.items():
        out[k] = vector[start:start + v.numel()].reshape(v.shape)
        start += v.numel()
    return out


def gradpc(objective: Objective, clean: ParamDict, x: Tensor, y: Tensor, eps_w: float,
           steps: int = 100) -> ParamDict:
    """GradPC target: normalized-gradient ascent on the mean loss within the l2 ball."""
    if steps < 1:
        raise TargetError(f"steps must be >= 1, got {steps}")
    radius = absolute_radius(clean, eps_w)
    base = flatten({k: v.detach() for k, v in clean.items()})
    delta = torch.zeros_like(base)
    for _ in range(steps):
        params = _unflatten(base + delta, clean)
        grad = flatten(objective.loss_sum_grad(params, x, y))
        norm = float(grad.norm())
        if norm == 0.0:
            break
        delta = _project(delta + (radius / 10) * grad / norm, radius)
    return _unflatten((base + delta).detach(), clean)


def randompc(clean: ParamDict, eps_w: float, seed: int) -> ParamDict:
    """RandomPC target: ``theta_clean + r u``, ``u`` a seeded random unit direction."""
    radius = absolute_radius(clean, eps_w)
    base = flatten({k: v.detach() for k, v in clean.items()})
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(base.shape, generator=g, dtype=base.dtype).to(base.device)
    return _unflatten(base + radius * u / u.norm(), clean)


def label_flip(victim: ConvexVictim, x: np.ndarray, y: np.ndarray, rate: float,
               seed: int) -> Params:
    """Retrain ``victim`` on ``D_c`` plus flipped copies of a seeded ``rate`` fraction of it."""
    if not 0 <= rate <= 1e3:
        raise TargetError(f"rate must lie in [0, 1e3], got {rate}")
    count = round(rate * len(y))
    if count == 0:
        return victim.fit(x, y)
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(y)) for _ in range(-(-count // len(y)))])[:count]
    flipped = flip_labels(y[order])
    return victim.fit(x, y, extra_X=x[order], extra_y=flipped)


def flip_labels(y: np.ndarray) -> np.ndarray:
    """±1 labels negated; integer labels ``c`` mapped to ``C - 1 - c`` (C = max label + 1)."""
    if np.all(np.isin(y, (-1.0, 1.0))):
        return -y
    return y.max() - y


def supplied(clean: ParamDict, model: ParamDict) -> ParamDict:
    """Any model as target, checked against the clean model's names and shapes."""
    if set(model) != set(clean):
        raise TargetError(f"target has parameters {sorted(model)}, victim has {sorted(clean)}")
    for k, v in clean.items():
        if tuple(model[k].shape) != tuple(v.shape):
            raise TargetError(f"target parameter {k!r} has shape {tuple(model[k].shape)}, "
                              f"victim's has {tuple(v.shape)}")
        if not bool(torch.isfinite(model[k]).all()):
            raise TargetError(f"target parameter {k!r} contains NaN or inf")
    return {k: model[k].detach().clone() for k in clean}


def fingerprint(*arrays: np.ndarray | Tensor) -> str:
    """A short content hash of arrays (cache keys for data and clean models)."""
    h = hashlib.sha256()
    for a in arrays:
        arr = a.detach().cpu().numpy() if isinstance(a, Tensor) else np.asarray(a)
        h.update(str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def cached(key: tuple, build: Callable[[], ParamDict]) -> ParamDict:
    """``build()`` once per ``key`` in this process; callers get independent copies."""
    if key not in _CACHE:
        _CACHE[key] = {k: v.detach().clone() for k, v in build().items()}
    return {k: v.clone() for k, v in _CACHE[key].items()}


@targets.register("gradpc", tags={"parameter-corruption"})
@dataclass(frozen=True)
class GradPC:
    """GradPC target (Sun et al. 2020; seed 002 §5): l2-ball normalized-gradient ascent."""

    eps_w: float = 0.5
    steps: int = 100

    def build(self, objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
              victim: ConvexVictim | None, seed: int) -> ParamDict:
        key = ("gradpc", self.eps_w, self.steps, fingerprint(x, y, flatten(clean)))
        return cached(key, lambda: gradpc(objective, clean, x, y, self.eps_w, self.steps))


@targets.register("randompc", tags={"parameter-corruption"})
@dataclass(frozen=True)
class RandomPC:
    """RandomPC target (Sun et al. 2020; seed 002 Table 5): a random l2 corruption."""

    eps_w: float = 0.5

    def build(self, objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
              victim: ConvexVictim | None, seed: int) -> ParamDict:
        key = ("randompc", self.eps_w, seed, fingerprint(flatten(clean)))
        return cached(key, lambda: randompc(clean, self.eps_w, seed))


@targets.register("flipped", tags={"label-flip"})
@dataclass(frozen=True)
class FlippedLabels:
    """Label-flip target (seed 001 §3): retrain on D_c plus flipped copies of a fraction."""

    rate: float = 0.1

    def build(self, objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
              victim: ConvexVictim | None, seed: int) -> ParamDict:
        if victim is None:
            raise TargetError("the flipped target needs a convex victim to retrain")
        key = ("flipped", self.rate, seed, repr(victim), fingerprint(x, y))
        xs, ys = x.detach().cpu().numpy(), y.detach().cpu().numpy()
        return cached(key, lambda: params_to_torch(label_flip(victim, xs, ys, self.rate, seed)))


@targets.register("pinned", tags={"supplied"})
@dataclass(frozen=True)
class PinnedModel:
    """A target given by its parameters (seed 002 Fig. 1's hand-set OR targets): ``w``, ``b``.

    ``w`` is a flat list reshaped to the victim's weight shape; checked by :func:`supplied`.
    """

    w: tuple[float, ...]
    b: float | tuple[float, ...]

    def build(self, objective: Objective, clean: ParamDict, x: Tensor, y: Tensor,
              victim: ConvexVictim | None, seed: int) -> ParamDict:
        w = torch.as_tensor(self.w, dtype=clean["w"].dtype)
        b = torch.as_tensor(self.b, dtype=clean["b"].dtype)
        if w.numel() != clean["w"].numel():
            raise TargetError(f"pinned target w has {w.numel()} entries, the victim's weight "
                              f"has shape {tuple(clean['w'].shape)}")
        return supplied(clean, {"w": w.reshape(clean["w"].shape), "b": b.reshape(clean["b"].shape)})

r"""Local data terms sum_i w_i l(theta_n, x_i) on a client axis (seed 004 Eq. 3 and §5).

Parameters are flat vectors, ``theta [n, d]`` for n users at once (the batched engine); one
user's gradient is its row of the gradient of the summed loss, since users' terms are separable.

* :class:`LinearRegression`: l = (theta^T Q - A)^2 / 2 (quadratic: exposes H and c).
* :class:`LogisticRegression`: A in {-1, +1}, l = -ln sigma(A theta^T Q) (Eq. 134's loss).
* :class:`SoftmaxClassifier`: the (p + 1) x K linear classifier with bias; soft labels
  p_a, l = -sum_a p_a ln sigma_a(theta, Q) (Eq. 180; hard labels are one-hot).
* :class:`MultilayerPerceptron` (``relunet``): p -> h -> K with ReLU and biases (the
  784-784-10 net of Appendix C, 623,290 parameters), same cross-entropy.  rho = 0 is a saddle of
  a ReLU net (no gradient reaches W1 or W2), so it starts from :meth:`LocalLoss.initial`, the
  usual uniform draw U(-1/sqrt(fan_in), 1/sqrt(fan_in)) per layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from bench.pfl.federation import Federation
from bench.registry import pfl_models


class LocalLoss:
    """A per-input loss l(theta, Q, A) summed with the federation's weights."""

    quadratic = False
    #: the kind of labels it learns: "regression", "binary" or "multiclass" (bench.pfl.data)
    task = "multiclass"

    def dim(self, features: int) -> int:
        """Number of parameters d for queries with ``features`` entries."""
        raise NotImplementedError

    def point_losses(self, theta: Tensor, queries: Tensor, labels: Tensor) -> Tensor:
        """l(theta_n, Q_i, A_i) as ``[n, m]``."""
        raise NotImplementedError

    def initial(self, features: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """rho^0, ``[d]``: 0 for the convex losses (seed 004 §5 starts there)."""
        return torch.zeros(self.dim(features), dtype=dtype)

    def data_term(self, theta: Tensor, data: Federation) -> Tensor:
        """sum_i w_i l(theta_n, x_i) as ``[n]``."""
        return (data.weights * self.point_losses(theta, data.queries, data.labels)).sum(dim=1)


@pfl_models.register("linreg", tags={"quadratic"})
class LinearRegression(LocalLoss):
    """Least squares, l = (theta^T Q - A)^2 / 2 (seed 004 §4, Theorem 2)."""

    quadratic = True
    task = "regression"

    def dim(self, features: int) -> int:
        return features

    def predict(self, theta: Tensor, queries: Tensor) -> Tensor:
        return torch.einsum("nmp,np->nm", queries, theta)

    def point_losses(self, theta: Tensor, queries: Tensor, labels: Tensor) -> Tensor:
        return 0.5 * (self.predict(theta, queries) - labels) ** 2

    def curvature(self, data: Federation) -> tuple[Tensor, Tensor]:
        """H_n = sum_i w_i Q_i Q_i^T, c_n = sum_i w_i A_i Q_i; data term th^T H th / 2 - c^T th."""
        weighted = data.queries * data.weights.unsqueeze(-1)
        hessian = torch.einsum("nmp,nmq->npq", weighted, data.queries)
        linear = torch.einsum("nmp,nm->np", weighted, data.labels)
        return hessian, linear


@pfl_models.register("logreg")
class LogisticRegression(LocalLoss):
    """Logistic loss with labels in {-1, +1}: l = -ln sigma(A theta^T Q) (seed 004 Theorem 3)."""

    task = "binary"

    def dim(self, features: int) -> int:
        return features

    def predict(self, theta: Tensor, queries: Tensor) -> Tensor:
        return torch.einsum("nmp,np->nm", queries, theta)

    def point_losses(self, theta: Tensor, queries: Tensor, labels: Tensor) -> Tensor:
        return F.softplus(-labels * self.predict(theta, queries))


@pfl_models.register("softmax")
class SoftmaxClassifier(LocalLoss):
    """Linear classifier with bias, theta = [W | b] of shape K x (p + 1), flattened row-major."""

    def __init__(self, classes: int = 10) -> None:
        if classes < 2:
            raise ValueError(f"classes must be >= 2, got {classes}")
        self.classes = classes

    def dim(self, features: int) -> int:
        return self.classes * (features + 1)

    def logits(self, theta: Tensor, queries: Tensor) -> Tensor:
        """``[n, m, K]`` with logit_a = W_a^T Q + b_a."""
        blocks = theta.reshape(theta.shape[0], self.classes, -1)
        return torch.einsum("nmp,nkp->nmk", queries, blocks[..., :-1]) + blocks[..., -1][:, None]

    def point_losses(self, theta: Tensor, queries: Tensor, labels: Tensor) -> Tensor:
        return -(labels * torch.log_softmax(self.logits(theta, queries), dim=-1)).sum(dim=-1)


@pfl_models.register("relunet")
class MultilayerPerceptron(LocalLoss):
    """p -> hidden -> K with ReLU; theta = [W1 (h x p), b1, W2 (K x h), b2] flattened."""

    def __init__(self, features: int = 784, hidden: int = 784, classes: int = 10) -> None:
        for name, value, least in (("features", features, 1), ("hidden", hidden, 1),
                                   ("classes", classes, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        self.features, self.hidden, self.classes = features, hidden, classes

    def dim(self, features: int) -> int:
        if features != self.features:
            raise ValueError(f"features: relunet built for {self.features}, data has "
                             f"{features}")
        return self.hidden * (features + 1) + self.classes * (self.hidden + 1)

    def initial(self, features: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """Each layer's weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        p, h, k = features, self.hidden, self.classes
        bounds = [(h * p, p), (h, p), (k * h, h), (k, h)]
        parts = [(2.0 * torch.rand(size, generator=generator, dtype=dtype) - 1.0) / fan_in**0.5
                 for size, fan_in in bounds]
        return torch.cat(parts)

    def logits(self, theta: Tensor, queries: Tensor) -> Tensor:
        n, p, h, k = theta.shape[0], self.features, self.hidden, self.classes
        w1, b1, w2, b2 = torch.split(theta, [h * p, h, k * h, k], dim=1)
        hidden = torch.relu(torch.bmm(queries, w1.reshape(n, h, p).transpose(1, 2)) + b1[:, None])
        return torch.bmm(hidden, w2.reshape(n, k, h).transpose(1, 2)) + b2[:, None]

    def point_losses(self, theta: Tensor, queries: Tensor, labels: Tensor) -> Tensor:
        return -(labels * torch.log_softmax(self.logits(theta, queries), dim=-1)).sum(dim=-1)

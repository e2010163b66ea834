"""Users' local datasets on a client axis (seed 004 §2): padded tensors with per-point weights.

User n holds D_n = {(Q_i, A_i)}; the batched engine needs one tensor per field, so datasets are
padded to the largest one and each point carries a weight w_i (0 on padding).  The weights also
express the seed's sum/expectation switch (Appendix C): ``form="sum"`` gives w_i = 1, so the data
term is sum_i l(theta, x_i); ``form="mean"`` gives w_i = 1/|D_n|, the empirical expectation.  A
poisoner's overweighting factor alpha (Appendix I) multiplies its points' weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

FORMS = ("sum", "mean")


@dataclass(frozen=True)
class Federation:
    """queries ``[n, m, p]``, labels ``[n, m]`` or soft labels ``[n, m, K]``, weights ``[n, m]``."""

    queries: Tensor
    labels: Tensor
    weights: Tensor

    def __post_init__(self) -> None:
        if self.queries.dim() != 3:
            raise ValueError(f"queries must be [n, m, p], got {tuple(self.queries.shape)}")
        n, m = self.queries.shape[:2]
        if tuple(self.labels.shape[:2]) != (n, m) or tuple(self.weights.shape) != (n, m):
            raise ValueError(
                f"labels {tuple(self.labels.shape)} and weights {tuple(self.weights.shape)} "
                f"must start with the queries' [n, m] = [{n}, {m}]"
            )

    @property
    def clients(self) -> int:
        return self.queries.shape[0]

    def client(self, index: int) -> Federation:
        """User ``index`` alone, keeping a client axis of length 1."""
        return Federation(
            self.queries[index : index + 1],
            self.labels[index : index + 1],
            self.weights[index : index + 1],
        )

    def select(self, indices: Sequence[int]) -> Federation:
        idx = torch.as_tensor(list(indices), dtype=torch.long, device=self.queries.device)
        return Federation(self.queries[idx], self.labels[idx], self.weights[idx])

    @classmethod
    def stack(
        cls,
        datasets: Sequence[tuple[Tensor, Tensor]],
        form: str = "sum",
        scales: Sequence[float] | None = None,
    ) -> Federation:
        """Pad ``[(Q_n [m_n, p], A_n [m_n, ...]), ...]`` onto a client axis.

        ``scales`` multiplies each user's weights (the poisoner's alpha); ``form`` is "sum" or
        "mean" (w_i = 1 or 1/|D_n|).
        """
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        if not datasets:
            raise ValueError("a federation needs at least one user")
        scales = [1.0] * len(datasets) if scales is None else list(scales)
        if len(scales) != len(datasets):
            raise ValueError(f"scales has {len(scales)} entries for {len(datasets)} users")
        sizes = [len(q) for q, _ in datasets]
        if min(sizes) == 0:
            raise ValueError(f"every user needs at least one data point, sizes {sizes}")
        width = max(sizes)
        q0, a0 = datasets[0]
        queries = q0.new_zeros((len(datasets), width, *q0.shape[1:]))
        labels = a0.new_zeros((len(datasets), width, *a0.shape[1:]))
        weights = q0.new_zeros((len(datasets), width))
        for n, ((q, a), size, scale) in enumerate(zip(datasets, sizes, scales, strict=True)):
            queries[n, :size] = q
            labels[n, :size] = a
            weights[n, :size] = scale * (1.0 if form == "sum" else 1.0 / size)
        return cls(queries, labels, weights)

    @classmethod
    def concat(cls, parts: Sequence[Federation]) -> Federation:
        """Join federations along the client axis (padding to the widest)."""
        width = max(p.queries.shape[1] for p in parts)

        def pad(t: Tensor) -> Tensor:
            extra = width - t.shape[1]
            if extra == 0:
                return t
            return torch.cat([t, t.new_zeros((t.shape[0], extra, *t.shape[2:]))], dim=1)

        return cls(
            torch.cat([pad(p.queries) for p in parts]),
            torch.cat([pad(p.labels) for p in parts]),
            torch.cat([pad(p.weights) for p in parts]),
        )

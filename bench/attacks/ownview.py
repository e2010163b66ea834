"""Partial-knowledge variants: the adversary estimates the honest statistics from its own clients.

The omniscient attacks read the honest updates of the round.  A weaker and more realistic
adversary only knows the updates its own ``f`` clients compute when they run the honest
protocol on their own shards, and plugs those in wherever the attack reads the honest ones:
Baruch et al. (NeurIPS 2019) estimate ALIE's mean and deviation that way, Fang et al. (USENIX
Security 2020, "partial knowledge") their attack's statistics, and Shejwalkar & Houmansadr
(NDSS 2021) run min-max / min-sum "with unknown benign gradients".  Each variant here is its
omniscient parent applied to ``ctx.byzantine`` in place of ``ctx.honest`` (the simulator passes
the Byzantine clients' own protocol updates because the variants declare ``acts_on_data``,
without changing their data or gradients).  They need ``f >= 2`` (a deviation needs two rows).
"""

from __future__ import annotations

from dataclasses import replace

from torch import Tensor

from bench.attacks.alie import ALIE
from bench.attacks.base import AttackContext
from bench.attacks.fang import Fang
from bench.attacks.flips import SignFlip
from bench.attacks.ipm import IPM
from bench.attacks.minmax import MinMax, MinSum
from bench.attacks.rop import ROP
from bench.registry import attacks


class OwnView:
    """Mixin: run the parent attack with the Byzantine clients' own updates as the honest view."""

    name: str
    acts_on_data = True

    def forge(self, ctx: AttackContext) -> Tensor:
        own = ctx.byzantine
        if own is None:
            raise ValueError(f"attack {self.name} needs the Byzantine clients' own updates "
                             "(ctx.byzantine); got None")
        if own.shape[0] < 2:
            raise ValueError(f"attack {self.name} estimates statistics from its own clients and "
                             f"needs f >= 2, got f={own.shape[0]}")
        return super().forge(replace(ctx, honest=own))  # type: ignore[misc]


@attacks.register("alie-own", tags={"partial-knowledge"})
class OwnALIE(OwnView, ALIE):
    """ALIE from the adversary's own view (Baruch et al., NeurIPS 2019, §4: the corrupted
    workers estimate the mean and deviation from their own data).

    Every Byzantine client sends ``mu_B - z sigma_B``, with ``mu_B``, ``sigma_B`` the
    per-coordinate mean and unbiased deviation of the ``f`` Byzantine clients' own honest
    updates and ``z = z_max(n, f)`` as ``alie`` (or the given ``z``).
    """

    name = "alie-own"


@attacks.register("ipm-own", tags={"partial-knowledge"})
class OwnIPM(OwnView, IPM):
    """IPM from the adversary's own view (Xie, Koyejo & Gupta, UAI 2020, with the honest mean
    estimated by the Byzantine clients' own updates): every Byzantine client sends
    ``-eps * mu_B``, ``mu_B`` the mean of their own honest updates; default ``eps = 0.2``.
    """

    name = "ipm-own"


@attacks.register("signflip-own", tags={"partial-knowledge"})
class OwnSignFlip(OwnView, SignFlip):
    """Sign flipping of the adversary's own mean: every Byzantine client sends ``-mu_B``, the
    negated mean of the Byzantine clients' own honest updates (IPM with ``eps = 1``, Xie et
    al. 2020).  Unlike ``bitflip``, which negates each client's gradient before its momentum,
    the negation here is of the averaged momenta, one message for all."""

    name = "signflip-own"


@attacks.register("minmax-own", tags={"partial-knowledge"})
class OwnMinMax(OwnView, MinMax):
    """Min-Max with unknown benign gradients (Shejwalkar & Houmansadr, NDSS 2021, §V-B): the
    ``minmax`` construction ``mu_B + gamma* p`` (``p`` from ``perturbation``, default the
    negated deviation) with mean, deviation and pairwise distances of the Byzantine clients'
    own honest updates in place of the honest ones.
    """

    name = "minmax-own"


@attacks.register("minsum-own", tags={"partial-knowledge"})
class OwnMinSum(OwnView, MinSum):
    """Min-Sum with unknown benign gradients (Shejwalkar & Houmansadr, NDSS 2021, §V-B): the
    ``minsum`` construction ``mu_B + gamma* p`` with the Byzantine clients' own honest updates
    in place of the honest ones (sum of squared distances to them bounded by theirs).
    """

    name = "minsum-own"


@attacks.register("fang-own", tags={"partial-knowledge"})
class OwnFang(OwnView, Fang):
    """Fang's trimmed-mean attack with partial knowledge (Fang, Cao, Jia & Gong, USENIX
    Security 2020, §4, "partial knowledge"): the per-coordinate mean direction ``s_j`` and the
    extremes ``u_min``, ``u_max`` come from the Byzantine clients' own honest updates; each
    Byzantine value is drawn in ``[u_min, u_min / b]`` (``s_j > 0``) or ``[u_max, b u_max]``
    (``s_j < 0``) as in ``fang``.  Only the trimmed-mean target (Krum's needs ``n > 2f + 1``
    rows of knowledge).  Hyperparameters: ``b`` (default 2), ``threshold`` (unused here).
    """

    name = "fang-own"

    def __init__(self, b: float = 2.0, threshold: float = 1e-5) -> None:
        super().__init__(target="trim", b=b, threshold=threshold)


@attacks.register("rop-own", tags={"partial-knowledge", "reference"})
class OwnROP(OwnView, ROP):
    """ROP from the adversary's own view (Özfatura et al., IEEE TIFS 2024, seed 003
    Algorithm 3, with ``m_bar`` estimated by the mean of the Byzantine clients' own honest
    updates): location ``pi m_prev + (1 - pi) mu_B``, perturbation of norm ``z`` orthogonal
    (``angle`` 90) to ``lam m_prev + (1 - lam) mu_B``; parameters as ``rop``.
    """

    name = "rop-own"

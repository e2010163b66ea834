"""The recovered offset of seed 000 (Appendix C) as an update attack for the FL track."""

from __future__ import annotations

from torch import Tensor

from bench.attacks.base import Attack, AttackContext
from bench.online.threats import ThreatModel
from bench.registry import attacks, threatmodels

CLIPS = {None: "noclip", "after": "clip-after", "before": "clip-before"}


def build_threat(clip: str | None, bound: float | None, norm: str) -> ThreatModel:
    """The threat model of ``clip``: ``None`` (no clip, no bound), ``after`` or ``before``
    (``clip-after`` / ``clip-before`` with the bound ``bound`` > 0)."""
    if clip not in CLIPS:
        raise ValueError(f"recovered-offset: clip must be after, before or unset (no clip), got "
                         f"{clip!r}")
    if clip is None:
        if bound is not None:
            raise ValueError(f"recovered-offset: no clip takes no clip bound, got bound={bound}")
        return threatmodels.make("noclip")
    if bound is None:
        raise ValueError(f"recovered-offset: clip {clip!r} needs a clip bound (bound > 0)")
    return threatmodels.make(CLIPS[clip], bound=bound, norm=norm)


@attacks.register("recovered-offset", tags={"omniscient"})
class RecoveredOffset(Attack):
    """Recovered offset (Pang et al., NeurIPS 2021; seed 000 §C): force the aggregate to ``G_poi``.

    The ``f`` Byzantine clients know every honest update (white-box, seed 000 §A.3) and send the
    rows :meth:`~bench.online.threats.ThreatModel.offset` gives for the assumed server rule:
    ``clip`` unset (``noclip``), ``after`` (``clip-after``) or ``before`` (``clip-before``), with
    ``bound`` η and ``norm``.  (The values are not the threat models' names so that a case's id,
    which shows the parameter, is not selected by ``-k clip-after``.)  The
    FL track's aggregators average, so the sum the threat model steers is ``n · G_poi``; the goal
    is ``G_poi = -scale · mean(honest)`` (the reversed honest direction).  Under ``mean`` and
    ``noclip`` the aggregate is exactly ``G_poi``; against robust aggregators the seed has no
    result (cells beyond it).
    """

    name = "recovered-offset"

    def __init__(self, clip: str | None = None, bound: float | None = None, norm: str = "l2",
                 scale: float = 1.0) -> None:
        super().__init__()
        if not scale >= 0:
            raise ValueError(f"recovered-offset: scale must be >= 0, got {scale}")
        self.threat = build_threat(clip, bound, norm)
        self.scale = float(scale)

    def forge(self, ctx: AttackContext) -> Tensor:
        if ctx.f > ctx.n:
            raise ValueError(f"recovered-offset: attacked clients f={ctx.f} exceed n={ctx.n}")
        goal = -self.scale * ctx.honest_mean
        return self.threat.offset(ctx.n * goal, ctx.honest, ctx.f)

r"""The Counter-Gradient Attack (seed 004 §5.1, Eqs. 5-6, Proposition 1).

From public state only, the attacker estimates the other users' summed report of the previous
round (Eq. 5), exact under the plain server step because rho^t = rho^{t-1} - eta (g_s + g_{-s}):

.. math:: \hat g_{-s}^t = (\rho^{t-1} - \rho^t)/\eta_{t-1} - g_s^{t-1} = g_{-s}^{t-1},
          \quad \hat g_{-s}^0 = 0,

and reports the plausible g closest to sending rho to the target in one step (Eq. 6):
g_s^t = Proj_{GRAD(rho^t)}(h), h = (rho^t - theta^dagger)/eta_t - \hat g_{-s}^t (Proposition 1:
h itself for l2sq, h min(1, lam/||h||) for l2norm and l2smooth).  Against l2sq it drives rho^t to
theta^dagger geometrically (Theorem 4, rate sqrt(7)/3 for eta <= 1/(3L)).
"""

from __future__ import annotations

from torch import Tensor

from bench.pfl.attacks.base import AttackContext, GradientAttack
from bench.registry import pfl_attacks


@pfl_attacks.register("cga", tags={"gradient"})
class CounterGradient(GradientAttack):
    """Counter-Gradient Attack (seed 004 Eqs. 5-6, Proposition 1's projection)."""

    def start(self, context: AttackContext) -> None:
        self.target = context.target
        self.regularizer = context.problem.regularizer
        self.previous: tuple[Tensor, float, Tensor] | None = None
        self.estimate: Tensor | None = None

    def report(self, rho: Tensor, step: float) -> Tensor:
        if self.previous is None:
            self.estimate = rho.new_zeros(rho.shape)
        else:
            last_rho, last_step, last_report = self.previous
            self.estimate = (last_rho - rho) / last_step - last_report
        wanted = (rho - self.target) / step - self.estimate
        report = self.regularizer.project(wanted)
        self.previous = (rho.clone(), step, report.clone())
        return report

"""Costs of seed 001's Algorithm 1 (a benchmark, not a test): k copies and line-4 solvers.

1. k-copies speedup: Algorithm 1 to epsilon-closeness with k = 1 and k = 2 copies per
   iteration on the same target; retrains, poisons, seconds and final accuracy (seed 001 §4:
   two copies roughly halve the time at <= 0.7 % loss of success on MNIST 1-7).
2. Line 4: seconds per call of the exact hinge maximiser (four HiGHS LPs) and of the Adam
   maximiser with restarts (logistic), at the clean model against the target.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/mtp_costs.py [box2d|mnist17]
"""

from __future__ import annotations

import sys
import time

from bench.poisoning.box2d import box2d
from bench.poisoning.convex import HingeVictim, LogisticVictim
from bench.poisoning.data import mnist17
from bench.poisoning.loss_difference import hinge_max_difference, logistic_max_difference
from bench.poisoning.model_targeted import flip_target
from bench.poisoning.online_attack import model_targeted_poisoning

C_R = 0.09
SETUPS = {"box2d": (lambda: box2d(0), 0.3, 0.01, 300),
          "mnist17": (lambda: mnist17(0), 0.05, 0.1, 400)}


def timed(call, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def main(name: str) -> None:
    load, goal, epsilon, budget = SETUPS[name]
    data = load()
    X, y, Xt, yt = data.x_train, data.y_train, data.x_test, data.y_test
    for victim in (HingeVictim(C_R), LogisticVictim(C_R)):
        target = flip_target(victim, X, y, goal, False).params
        for copies in (1, 2):
            start = time.perf_counter()
            run = model_targeted_poisoning(victim, X, y, target, lo=0.0, hi=1.0,
                                           epsilon=epsilon, budget=budget, copies=copies)
            seconds = time.perf_counter() - start
            print(f"{name} {victim.name} k={copies}: retrains {run.retrains} poisons "
                  f"{run.poisons} stopped {run.stopped} seconds {seconds:.2f} accuracy "
                  f"{victim.accuracy(run.params, Xt, yt):.4f}", flush=True)
        clean = victim.fit(X, y)
        if isinstance(victim, HingeVictim):
            cost = timed(lambda c=clean, t=target: hinge_max_difference(c, t, 0.0, 1.0), 5)
            print(f"{name} line 4 exact (4 LPs, d={X.shape[1]}): {1e3 * cost:.1f} ms/call")
        else:
            cost = timed(lambda c=clean, t=target: logistic_max_difference(c, t, 0.0, 1.0), 3)
            print(f"{name} line 4 Adam (10 restarts x 300 steps, d={X.shape[1]}): "
                  f"{1e3 * cost:.1f} ms/call")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "box2d")

"""byzbench's aggregation rules side by side with ByzFL 0.0.11's, and with byzbench's sort path.

For every rule both libraries implement, on the same float32 updates ``Tensor[n, d]`` (f = n/5
rows shifted far from the rest), print the relative disagreement
``max|ours - theirs| / max|theirs|`` and the speed ratio ``t_byzfl / t_ours`` (> 1: byzbench
faster) for n in {25, 100} and d in {1e5, 1e6}, as Markdown tables.  A second table gives the
coordinate-wise rules' network path against their ``torch.sort`` reference (``reference=True``,
the implementation before the selection kernels).  One thread; the libraries' calls alternate
and each time is the minimum over ``--repeats`` runs, so a shared machine's noise inflates both
sides alike.  ByzFL is a benchmark-only dependency (``pip install byzfl==0.0.11``)::

    python benchmarks/versus_byzfl.py [--repeats 3] [--sizes 25x100000 25x1000000 ...]

Parameter mapping (same mathematics): ByzFL's Krum and Multi-Krum score over the ``n - f - 1``
nearest rows (ours: ``n - f - 2``) and Multi-Krum averages ``n - f``, so ByzFL gets ``f + 1`` and
ours ``m = n - f - 1``.  ByzFL's Median takes the lower middle value for even ``n`` (ours the
average of the two middle values), so agreement is printed for odd ``n`` only.  ByzFL's NNM
materialises an ``[n, n - f, d]`` tensor and is skipped above 4 GiB.  ByzFL's ARC clips in
place, so it gets a fresh copy, made outside its timing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import torch
from byzfl.aggregators import aggregators as theirs
from byzfl.aggregators import preaggregators as theirs_pre

import bench  # noqa: F401  (registers every component)
from bench.aggregators.bulyan import bulyan
from bench.aggregators.median import coordinate_median, mean_around_median
from bench.aggregators.trimmed import trimmed_mean
from bench.registry import aggregators, preaggregators

Rule = Callable[[torch.Tensor], torch.Tensor]
NNM_LIMIT_BYTES = 4 * 2**30


def shared_rules(n: int, f: int) -> dict[str, tuple[Callable[[], Rule], Callable[[], Rule]]]:
    """``name -> (make ours, make theirs)``; a fresh instance per call (CC is stateful)."""
    return {
        "cm": (lambda: aggregators.make("cm", f=f), lambda: theirs.Median()),
        "tm": (lambda: aggregators.make("tm", f=f), lambda: theirs.TrMean(f=f)),
        "meamed": (lambda: aggregators.make("meamed", f=f), lambda: theirs.Meamed(f=f)),
        "rfa": (lambda: aggregators.make("rfa", f=f, iterations=3, nu=0.1),
                lambda: theirs.GeometricMedian(nu=0.1, T=3)),
        "krum": (lambda: aggregators.make("krum", f=f), lambda: theirs.Krum(f=f + 1)),
        "multikrum": (lambda: aggregators.make("multikrum", f=f, m=n - f - 1),
                      lambda: theirs.MultiKrum(f=f + 1)),
        "cc": (lambda: aggregators.make("cc", f=f, tau=1.0, iterations=1),
               lambda: theirs.CenteredClipping(tau=1.0, L=1)),
        "nnm": (lambda: preaggregators.make("nnm", f=f), lambda: theirs_pre.NNM(f=f)),
        "arc": (lambda: preaggregators.make("arc", f=f), lambda: theirs_pre.ARC(f=f)),
    }


def before_and_now(f: int) -> dict[str, tuple[Rule, Rule]]:
    """``name -> (sort reference, current path)`` for the coordinate-wise rules."""
    return {
        "cm": (lambda u: coordinate_median(u, reference=True), coordinate_median),
        "tm": (lambda u: trimmed_mean(u, f, reference=True), lambda u: trimmed_mean(u, f)),
        "meamed": (lambda u: mean_around_median(u, u.shape[0] - f, reference=True),
                   lambda u: mean_around_median(u, u.shape[0] - f)),
        "bulyan": (lambda u: bulyan(u, f, reference=True), lambda u: bulyan(u, f)),
    }


def make_updates(n: int, d: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(n * 7 + d)
    updates = torch.randn(n, d, generator=generator)
    f = n // 5
    updates[:f] = 10.0 * updates[:f] + 5.0  # outliers: far from and wider than the honest rows
    return updates


def fresh_call(make: Callable[[], Rule], updates: torch.Tensor) -> torch.Tensor:
    return make()(updates)


def call_on_copies(make: Callable[[], Rule], copies: list[torch.Tensor]) -> torch.Tensor:
    return make()(copies.pop())


def timed(call: Callable[[], torch.Tensor]) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def alternate(first: Callable[[], torch.Tensor], second: Callable[[], torch.Tensor],
              repeats: int) -> tuple[float, float, torch.Tensor, torch.Tensor]:
    """Minimum times of ``first`` and ``second`` called alternately, and their last outputs."""
    best = [float("inf"), float("inf")]
    outs: list[torch.Tensor] = [torch.empty(0), torch.empty(0)]
    for _ in range(repeats):
        for k, call in enumerate((first, second)):
            seconds, outs[k] = timed(call)
            best[k] = min(best[k], seconds)
    return best[0], best[1], outs[0], outs[1]


def disagreement(ours: torch.Tensor, reference: torch.Tensor) -> float:
    scale = float(reference.abs().max().clamp_min(1e-30))
    return float((ours.double() - reference.double()).abs().max()) / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="*",
                        default=["25x100000", "25x1000000", "100x100000", "100x1000000"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes]
    print(f"torch {torch.__version__}, 1 thread, float32, f = n/5, min of {args.repeats}\n")
    print("| rule | n | d | byzbench ms | ByzFL ms | speed ratio | rel. disagreement |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, d in sizes:
        updates, f = make_updates(n, d), n // 5
        for name, (ours, theirs_rule) in shared_rules(n, f).items():
            if name == "nnm" and n * (n - f) * d * 4 > NNM_LIMIT_BYTES:
                print(f"| {name} | {n} | {d:.0e} | - | - | skipped: ByzFL needs "
                      f"{n * (n - f) * d * 4 / 2**30:.0f} GiB | - |")
                continue
            calls = (partial(fresh_call, ours, updates), partial(fresh_call, theirs_rule, updates))
            if name == "arc":  # ByzFL's ARC writes into its input: time it on fresh copies
                copies = [updates.clone() for _ in range(args.repeats)]
                calls = (calls[0], partial(call_on_copies, theirs_rule, copies))
            t_ours, t_theirs, out_ours, out_theirs = alternate(*calls, args.repeats)
            agree = ("n/a (lower median)" if name == "cm" and n % 2 == 0
                     else f"{disagreement(out_ours, out_theirs):.1e}")
            print(f"| {name} | {n} | {d:.0e} | {1e3 * t_ours:.1f} | {1e3 * t_theirs:.1f} | "
                  f"{t_theirs / t_ours:.2f} | {agree} |")
    print("\n| rule | n | d | sort (before) ms | now ms | speed-up | rel. difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, d in sizes:
        updates, f = make_updates(n, d), n // 5
        for name, (before, now) in before_and_now(f).items():
            t_before, t_now, out_before, out_now = alternate(
                partial(before, updates), partial(now, updates), args.repeats)
            same = "identical" if torch.equal(out_before, out_now) else (
                f"{disagreement(out_now, out_before):.1e}")
            print(f"| {name} | {n} | {d:.0e} | {1e3 * t_before:.1f} | {1e3 * t_now:.1f} | "
                  f"{t_before / t_now:.2f} | {same} |")


if __name__ == "__main__":
    main()

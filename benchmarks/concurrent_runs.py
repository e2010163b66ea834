"""Concurrent FedSGD runs on one device: runs x rounds per second for 1, 4 and 16 runs.

Seed 003's MNIST CNN and ResNet-20 (n = 25 clients, f = 5, batch 32, CC tau = 1 against ALIE,
worker momentum 0.9) on random inputs of their shapes: every round is a whole FedSGD round
(sampling, client gradients, momentum, attack, aggregation, server step) of every run.  Modes:

* ``lockstep``: :class:`bench.fl.batch.Lockstep` as ``byzbench run --batch R`` plays it (the
  engine ``auto`` picks; the fused call only where it is bit-exact, checked on the first round);
* ``fused``: the same with the ``vmap`` engine and the fused call used unconditionally (its
  speed, whether or not it is exact on this device; ``exact`` says which, ``max|diff|`` how far
  its first-round gradients are from the runs' own engines).

R = 1 is a run alone, so ``runs x rounds/s`` at R = 1 is also what R runs one after another
achieve.  On a CPU the default is one timed round per cell (ResNet-20's round takes seconds);
on CUDA a warm-up round and ``--rounds`` timed rounds.  Usage::

    python benchmarks/concurrent_runs.py [--device cpu|cuda] [--rounds N] [--runs 1,4,16]
        [--models cnn,resnet20] [--modes lockstep,fused]
"""

from __future__ import annotations

import argparse
import time

import torch

import bench  # noqa: F401
from bench.data.base import TensorData
from bench.fl import federated_scenario
from bench.fl.batch import Lockstep
from bench.fl.simulation import synchronize
from bench.registry import datasets
from bench.run import Seeds
from bench.scenario import Component, Defense

SHAPES = {"cnn": (1, 28, 28), "resnet20": (3, 32, 32)}
CLIENTS, BATCH = 25, 32


@datasets.register("bench-noise-images", tags={"offline", "synthetic"})
def noise_images(channels: int = 1, size: int = 28, samples: int = 3200) -> TensorData:
    """Standard-normal images with uniform labels over 10 classes (throughput only)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(samples, channels, size, size, generator=g)
    y = torch.randint(0, 10, (samples,), generator=g)
    return TensorData("bench-noise-images", x, y, x[:64], y[:64], 10)


def lockstep(model: str, runs: int, device: str, mode: str) -> Lockstep:
    channels, size, _ = SHAPES[model]
    scenario = federated_scenario(
        dataset=Component("bench-noise-images", {"channels": channels, "size": size}),
        model=Component(model), defense=Defense(Component("cc", {"tau": 1.0})),
        attack=Component("alie"), n=CLIENTS, f=5, batch_size=BATCH, epochs=10, beta=0.9,
        engine="vmap" if mode == "fused" else "auto")
    jobs = [(scenario, Seeds(0, seed)) for seed in range(runs)]
    return Lockstep(jobs, device, require_exact=mode != "fused")


def first_round_gap(batch: Lockstep) -> tuple[bool | None, float | None]:
    """Whether the fused call equals the runs' own engines on one round, and by how much not."""
    if batch.fused is None:
        return None, None
    batches = {i: run.client_batches() for i, run in enumerate(batch.runs)}
    group = list(batches)
    fused, own = batch.fused_gradients(group, batches), batch.own_gradients(group, batches)
    gap = max(float((fused[i] - own[i]).abs().max()) for i in group)
    return gap == 0.0, gap


def measure(model: str, runs: int, device: str, mode: str, rounds: int, warm: bool) -> dict:
    batch = lockstep(model, runs, device, mode)
    exact, gap = first_round_gap(batch) if mode == "fused" else (None, None)
    if warm:
        batch.round()
    synchronize(batch.device)
    start = time.perf_counter()
    for _ in range(rounds):
        batch.round()
    synchronize(batch.device)
    seconds = time.perf_counter() - start
    if mode == "lockstep" and batch.fused is not None:
        exact = all(batch.exact.values()) if batch.exact else None
    return {"rate": runs * rounds / seconds, "seconds": seconds / rounds,
            "engine": batch.runs[0].engine_name, "exact": exact, "gap": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timed rounds per cell (default: 1 on CPU, 5 on CUDA)")
    parser.add_argument("--runs", default="1,4,16")
    parser.add_argument("--models", default="cnn,resnet20")
    parser.add_argument("--modes", default=None,
                        help="default: lockstep on CPU, lockstep,fused on CUDA")
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    rounds = args.rounds or (5 if cuda else 1)
    modes = (args.modes or ("lockstep,fused" if cuda else "lockstep")).split(",")
    name = torch.cuda.get_device_name(args.device) if cuda else "cpu"
    print(f"device {name}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"n={CLIENTS}, batch={BATCH}, {rounds} timed round(s) per cell"
          + (" after a warm-up round" if cuda else ""))
    print(f"{'model':9s} {'mode':9s} {'engine':10s} {'runs':>4s} {'s/round':>8s} "
          f"{'runs*rounds/s':>13s} {'vs 1 run':>8s} {'exact':>6s} {'max|diff|':>9s}")
    for model in args.models.split(","):
        for mode in modes:
            base = None
            for runs in [int(r) for r in args.runs.split(",")]:
                cell = measure(model, runs, args.device, mode, rounds, warm=cuda)
                base = base or cell["rate"]
                exact = "-" if cell["exact"] is None else ("yes" if cell["exact"] else "no")
                gap = "-" if cell["gap"] is None else f"{cell['gap']:.1e}"
                print(f"{model:9s} {mode:9s} {cell['engine']:10s} {runs:4d} "
                      f"{cell['seconds']:8.3f} {cell['rate']:13.3f} {cell['rate'] / base:8.2f} "
                      f"{exact:>6s} {gap:>9s}", flush=True)


if __name__ == "__main__":
    main()

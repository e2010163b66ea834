"""Seconds per batch of accumulative vs vanilla poisoning, measured side by side (seed 000 §A.3).

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/online_time_ratio.py [--repeats 5] [--cnn]

Both attacks poison one batch of 100 with 10-step PGD and take one SGD step, alternating in one
process on the same model: *vanilla* crafts a poisoned batch against the trigger-validation
alignment (:func:`bench.online.alignment.craft_trigger`), *accumulative* crafts an accumulative-
phase batch (:func:`bench.online.alignment.craft_accumulative`, one extra second-order gradient).
The paper reports 2.47 s / 2.33 s = 1.06 on a GeForce RTX 2080 Ti with ResNet-18; this script
prints the medians and their ratio on whatever device runs it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from bench.online.alignment import craft_accumulative, craft_trigger
from bench.registry import perturbations


def small_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 32),
                         nn.ReLU(), nn.Linear(32, 10))


def timed(step) -> float:  # noqa: ANN001
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cnn", action="store_true", help="28x28 inputs and a small CNN")
    args = parser.parse_args()
    torch.manual_seed(0)
    shape = (100, 1, 28, 28) if args.cnn else (100, 64)
    model = small_cnn() if args.cnn else nn.Sequential(nn.Linear(64, 64), nn.ReLU(),
                                                       nn.Linear(64, 10))
    batches = [(torch.rand(shape), torch.randint(0, 10, (100,))) for _ in range(3)]
    trigger, validation, train = batches
    pgd = perturbations.make("pgd", eps=8 / 255, steps=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step_on(x: torch.Tensor, y: torch.Tensor) -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    def vanilla() -> None:
        step_on(craft_trigger(model, train, validation, pgd), train[1])

    def accumulative() -> None:
        step_on(craft_accumulative(model, train, trigger, validation, pgd), train[1])

    vanilla(), accumulative()  # warm-up
    pairs = [(timed(vanilla), timed(accumulative)) for _ in range(args.repeats)]
    v = statistics.median(p[0] for p in pairs)
    a = statistics.median(p[1] for p in pairs)
    print(f"vanilla {v:.4f} s/batch, accumulative {a:.4f} s/batch, ratio {a / v:.3f} "
          f"(paper 2.47 / 2.33 = 1.06; {args.repeats} repeats, {'cnn' if args.cnn else 'mlp'})")


if __name__ == "__main__":
    main()

"""Comparator-network kernels against the sort-based reference (bench.aggregators.selection).

The network tests use the 0-1 principle (Knuth, TAOCP vol. 3, §5.3.4, Theorem Z): a comparator
network sorts (or delivers a rank, or a set of ranks) for every input iff it does so for every
input of 0s and 1s, so all ``2^n`` such columns are an exhaustive proof for small ``n``.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from bench.aggregators import selection
from bench.aggregators.distances import distances_to, weighted_differences
from bench.aggregators.median import coordinate_median, mean_around_median
from bench.aggregators.selection import (
    batcher_network,
    network_plan,
    run_network,
    use_network,
)
from bench.aggregators.trimmed import trimmed_mean

INF = float("inf")


def all_binary_columns(n: int) -> torch.Tensor:
    """``[n, 2^n]`` float64: every 0-1 column once."""
    codes = torch.arange(2**n)
    return ((codes[None, :] >> torch.arange(n)[:, None]) & 1).double()


def network_lines(values: torch.Tensor, groups) -> list[torch.Tensor]:
    """The output lines of the pruned plan for ``groups`` on ``values`` (one block)."""
    captured = []

    def finish(lines, out):
        captured.append(torch.stack(list(lines)))
        out.zero_()

    run_network(values, network_plan(values.shape[0], groups), finish)
    return list(torch.cat(captured, dim=1))


@pytest.mark.parametrize("n", range(2, 13))
def test_batcher_network_sorts_every_binary_column(n: int) -> None:
    values = all_binary_columns(n)
    ordered = network_lines(values, tuple((r,) for r in range(n)))
    assert torch.equal(torch.stack(ordered), values.sort(dim=0).values)


def test_batcher_network_size_for_25_lines() -> None:
    # Knuth §5.3.4: Batcher's merge-exchange network needs 140 comparators for n = 25.
    assert len(batcher_network(25)) == 140


@pytest.mark.parametrize("n", [5, 8, 11, 12])
def test_pruned_plans_deliver_ranks_and_sets(n: int) -> None:
    values = all_binary_columns(n)
    ordered = values.sort(dim=0).values
    middle = tuple(range(2, n - 1))
    lines = network_lines(values, ((1,), middle, (0,), (n - 1,)))
    for rank in (0, 1, n - 1):
        assert torch.equal(lines[rank], ordered[rank])
    # The middle group is delivered as a set: its sum equals the sorted ranks' sum.
    assert torch.equal(sum(lines[r] for r in middle), ordered[2 : n - 1].sum(dim=0))
    lone = network_lines(values, ((n // 2,),))
    assert torch.equal(lone[n // 2], ordered[n // 2])


def test_pruning_shrinks_the_network() -> None:
    full = len(batcher_network(25))
    median_only = network_plan(25, ((12,),))
    assert len(median_only) < full
    assert sum(step.need_min and step.need_max for step in median_only) < full


def test_plan_refuses_bad_positions() -> None:
    with pytest.raises(ValueError, match="position 7"):
        network_plan(5, ((7,),))
    with pytest.raises(ValueError, match="position 1"):
        network_plan(5, ((1,), (1, 2)))


def test_network_is_used_on_cpu_for_small_counts_only() -> None:
    assert use_network(torch.zeros(25, 3))
    assert use_network(torch.zeros(128, 3))
    assert not use_network(torch.zeros(129, 3))
    assert not use_network(torch.zeros(1, 3))
    assert not use_network(torch.zeros(25, 3, device="meta"))


def spoiled(n: int, d: int, kind: str, dtype: torch.dtype, seed: int) -> torch.Tensor:
    """Random rows, then ``kind``: 'tied' (few distinct values), 'unbounded' (+-inf rows),
    'missing' (NaN rows and entries), 'majority-missing' (NaN beyond f < n/2)."""
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(n, d, generator=generator, dtype=dtype)
    if kind == "tied":
        values = torch.randint(-2, 3, (n, d), generator=generator).to(dtype)
    elif kind == "unbounded":
        values[: max(1, n // 5)] = INF
        values[-max(1, n // 6) :, ::2] = -INF
    elif kind == "missing":
        values[: max(1, n // 5)] = float("nan")
        values[-1, ::3] = float("nan")
    elif kind == "majority-missing":
        values[: n // 2 + 1, ::2] = float("nan")
    return values


KINDS = ["random", "tied", "unbounded", "missing", "majority-missing"]
COUNTS = [2, 3, 4, 7, 16, 25, 26, 33, 64, 100, 128]


@pytest.fixture(autouse=True)
def narrow_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 7 columns, so every case below crosses block boundaries."""
    monkeypatch.setattr(selection, "BLOCK_COLUMNS", 7)


def identical(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)


@pytest.mark.uses("cm")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", COUNTS)
def test_cm_network_is_identical_to_the_sort(n: int, kind: str) -> None:
    values = spoiled(n, 40, kind, torch.float32, seed=n)
    fast, reference = coordinate_median(values), coordinate_median(values, reference=True)
    identical(fast, reference)
    if kind == "random":
        assert torch.equal(fast.view(torch.int32), reference.view(torch.int32))


@pytest.mark.uses("tm")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["single", "double"])
def test_tm_network_matches_the_sort(n: int, kind: str, dtype) -> None:
    values = spoiled(n, 40, kind, dtype, seed=n + 1)
    rtol = 1e-6 if dtype == torch.float32 else 1e-13
    # tm maps +-inf to the largest finite numbers; when more such rows than b survive the trim,
    # whether their sum overflows depends on the order of summation: compared from b = n // 5.
    smallest = n // 5 if kind == "unbounded" else 1
    for b in {b for b in (1, (n - 1) // 2, n // 5) if smallest <= b and 0 < b < n / 2}:
        torch.testing.assert_close(trimmed_mean(values, b),
                                   trimmed_mean(values, b, reference=True),
                                   rtol=rtol, atol=rtol, equal_nan=True)


@pytest.mark.uses("meamed")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["single", "double"])
def test_meamed_network_matches_the_sort(n: int, kind: str, dtype) -> None:
    values = spoiled(n, 40, kind, dtype, seed=n + 2)
    rtol = 1e-6 if dtype == torch.float32 else 1e-13
    for keep in {n, n - n // 5, n // 2 + 1, 1}:
        torch.testing.assert_close(mean_around_median(values, keep),
                                   mean_around_median(values, keep, reference=True),
                                   rtol=rtol, atol=rtol, equal_nan=True)


@pytest.mark.uses("meamed")
def test_meamed_network_keeps_precision_next_to_a_huge_value() -> None:
    values = torch.randn(11, 30, generator=torch.Generator().manual_seed(5))
    values[0] = -1e30
    torch.testing.assert_close(mean_around_median(values, 10),
                               mean_around_median(values.double(), 10).float())


@pytest.mark.uses("bulyan")
@pytest.mark.parametrize("kind", KINDS)
def test_bulyan_rows_without_a_copy_match_the_copied_rows(kind: str) -> None:
    # Bulyan's coordinate phase runs the window on the selected rows in place.
    values = spoiled(25, 40, kind, torch.float64, seed=6)
    rows = torch.tensor([3, 0, 24, 7, 8, 9, 12, 11, 10, 20, 21, 2, 1, 17, 16])
    torch.testing.assert_close(mean_around_median(values, 5, rows=rows),
                               mean_around_median(values[rows], 5, reference=True),
                               rtol=1e-13, atol=1e-13, equal_nan=True)


@pytest.mark.uses("cm", "tm")
def test_cm_and_tm_on_every_order_of_a_tied_column() -> None:
    # All orderings of [0, 0, 1, 1, 2] as columns: ties in every position.
    columns = torch.tensor(sorted(set(itertools.permutations([0.0, 0.0, 1.0, 1.0, 2.0])))).T
    identical(coordinate_median(columns), torch.ones(columns.shape[1]))
    identical(trimmed_mean(columns, 1), torch.full((columns.shape[1],), 2.0 / 3.0))


def test_blocked_distances_and_weighted_differences() -> None:
    generator = torch.Generator().manual_seed(7)
    points = torch.randn(9, 50, generator=generator, dtype=torch.float64)
    centre = torch.randn(50, generator=generator, dtype=torch.float64)
    weights = torch.rand(9, generator=generator, dtype=torch.float64)
    diff = points - centre
    torch.testing.assert_close(distances_to(points, centre, block=8), diff.norm(dim=1))
    torch.testing.assert_close(weighted_differences(points, centre, weights, block=8),
                               weights @ diff)

"""check_aggregator: a conforming rule passes every check; each deliberate break is caught."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from bench.aggregators.base import Aggregator, finite_rows
from bench.aggregators.conformance import check_aggregator


class FiniteMedian(Aggregator):
    """Coordinate-wise median of the finite rows: conforms."""

    name = "finite-median"
    needs_majority = True

    def aggregate(self, updates: Tensor) -> Tensor:
        rows = updates[finite_rows(updates)]
        return rows.sort(dim=0).values[(rows.shape[0] - 1) // 2]


class MatrixOutput(FiniteMedian):
    def aggregate(self, updates: Tensor) -> Tensor:
        return updates


class NonFiniteLeak(FiniteMedian):
    def aggregate(self, updates: Tensor) -> Tensor:
        return updates.mean(dim=0)


class FirstRow(FiniteMedian):
    def aggregate(self, updates: Tensor) -> Tensor:
        return updates[finite_rows(updates)][0]


class UnseededNoise(FiniteMedian):
    def aggregate(self, updates: Tensor) -> Tensor:
        return super().aggregate(updates) + 1e-3 * torch.randn(updates.shape[1])


class Biased(FiniteMedian):
    def aggregate(self, updates: Tensor) -> Tensor:
        return super().aggregate(updates) + 0.1


def unvalidated(updates: Tensor) -> Tensor:
    """A plain function with no input checks: a vector gives a scalar, no error."""
    return updates.nan_to_num(nan=0.0, posinf=0.0, neginf=0.0).sort(dim=0).values[0]


class Drifting(FiniteMedian):
    """Stateful: the output moves with the call count unless reset() restarts it."""

    def __init__(self, f: int = 0) -> None:
        super().__init__(f)
        self.calls = 0

    def aggregate(self, updates: Tensor) -> Tensor:
        self.calls += 1
        return super().aggregate(updates) * self.calls

    def reset(self) -> None:
        self.calls = 0


def test_conforming_rule_passes_every_check() -> None:
    for rule in (FiniteMedian, FiniteMedian(f=5), Drifting()):
        report = check_aggregator(rule, f=5)
        assert report.passed, str(report)
        assert len(report.checks) == 8 and all(c.passed for c in report.checks)


@pytest.mark.parametrize(
    ("rule", "caught"),
    [
        (MatrixOutput, {"output-shape"}),
        (NonFiniteLeak, {"non-finite-rows[nan]", "non-finite-rows[+inf]", "non-finite-rows[-inf]"}),
        (FirstRow, {"permutation"}),
        (UnseededNoise, {"determinism", "identical-rows"}),
        (Biased, {"identical-rows"}),
        (unvalidated, {"shape-errors"}),
    ],
    ids=["matrix-output", "non-finite-leak", "order-dependent", "unseeded-noise", "biased",
         "unvalidated"],
)
def test_each_break_is_caught_by_its_check(rule: object, caught: set[str]) -> None:
    report = check_aggregator(rule, f=5)
    assert not report.passed
    # The check aimed at the break fails (a break may trip other checks too).
    assert caught <= {c.name for c in report.failures}, str(report)
    assert all(c.message for c in report.failures)
    assert "FAIL" in str(report) and "does NOT conform" in str(report)


def test_undeclared_invariance_is_skipped_not_failed() -> None:
    report = check_aggregator(FirstRow, f=5, permutation_invariant=False)
    assert report.passed
    assert [c.passed for c in report.checks if c.name == "permutation"] == [None]
    assert "SKIP  permutation" in str(report)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="0 <= f < n"):
        check_aggregator(FiniteMedian, f=25, n=25)
    with pytest.raises(TypeError, match="aggregator class or instance"):
        check_aggregator(42)

"""Properties every registered aggregator shares: input validation, non-finite rows, devices."""

from __future__ import annotations

import pytest
import torch

import bench  # noqa: F401  (registers every component)
from bench.registry import aggregators, preaggregators

# The only rule allowed to return a non-finite vector when some rows are non-finite.
NOT_ROBUST = {"mean"}
# Rules that read meaning into row positions (a trusted pivot row, a positional random draw).
ROW_ORDER = set(aggregators.names("row-order"))
# Rules that add random noise to their output (their noiseless oracles are in their own tests).
NOISY = set(aggregators.names("noise"))
N, F, D = 25, 5, 40


def build(name: str, f: int = F, **params):
    rule = aggregators.make(name, f=f, **params)
    if hasattr(rule, "set_server_update"):
        rule.set_server_update(torch.ones(D))
    return rule


def each(names, exclude=()):
    return [pytest.param(n, marks=pytest.mark.uses(n), id=n) for n in names if n not in exclude]


def poisoned(pattern: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(updates, honest)``: N - F honest rows then F rows spoiled as ``pattern`` says."""
    honest = torch.randn(N - F, D, generator=generator) + 1.0
    bad = torch.randn(F, D, generator=generator)
    if pattern == "missing-values":
        bad[:, ::3] = float("nan")
    elif pattern == "overflowed-values":
        bad[: F // 2] = float("inf")
        bad[F // 2 :, 0] = -float("inf")
    else:
        bad[0] = float("nan")
        bad[1, 5] = float("inf")
        bad[2:] = -float("inf")
    return torch.cat([honest, bad]), honest


@pytest.mark.parametrize("pattern", ["missing-values", "overflowed-values", "mixed-rows"])
@pytest.mark.parametrize("name", each(aggregators.names(), NOT_ROBUST))
def test_at_most_f_nonfinite_rows_give_a_finite_bounded_output(name: str, pattern: str) -> None:
    generator = torch.Generator().manual_seed(0)
    updates, honest = poisoned(pattern, generator)
    order = torch.randperm(N, generator=generator)
    if name in ROW_ORDER:  # keep row 0 (honest) first: it may be the rule's trusted pivot
        rest = 1 + torch.randperm(N - 1, generator=generator)
        order = torch.cat([torch.zeros(1, dtype=torch.long), rest])
    out = build(name)(updates[order])
    assert torch.isfinite(out).all()
    # Every rule returns a (clipped) convex combination of honest rows, a sign vote of step
    # 0.01, or (fltrust) a convex combination of honest directions scaled to ||g0|| =
    # sqrt(D) ~ 6.3, below every honest norm (~ sqrt(2 D) ~ 8.9), or (rlr) the finite rows'
    # mean with some coordinates negated, or (weakdp, flame) one of these plus noise of
    # standard deviation <= 0.025: no coordinate leaves the honest rows' largest magnitude.
    envelope = honest.abs().max(dim=0).values
    assert (out.abs() <= envelope + 1e-5).all()


@pytest.mark.uses("cm")
@pytest.mark.parametrize("pattern", ["missing-values", "mixed-rows"])
@pytest.mark.parametrize("pre", each(preaggregators.names()))
def test_pre_stage_then_cm_stays_finite(pre: str, pattern: str) -> None:
    updates, honest = poisoned(pattern, torch.Generator().manual_seed(1))
    rows = preaggregators.make(pre, f=F)(updates)
    out = aggregators.make("cm", f=F)(rows)
    assert torch.isfinite(out).all()
    assert (out.abs() <= honest.abs().max(dim=0).values + 1e-5).all()


@pytest.mark.parametrize("name", each(aggregators.names()))
@pytest.mark.parametrize(
    "bad", [torch.zeros(5), torch.zeros(0, 3), torch.zeros(3, 0), torch.zeros(4, 3, 2)],
    ids=["vector", "no-rows", "no-columns", "three-axes"],
)
def test_wrong_shapes_are_refused(name: str, bad: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="shape"):
        build(name, f=0)(bad)


@pytest.mark.parametrize("name", each(aggregators.names()))
def test_integer_updates_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match="floating"):
        build(name, f=0)(torch.ones(4, 3, dtype=torch.long))


MAJORITY = [n for n in aggregators.names() if aggregators.entry(n).factory.needs_majority]
PRE_MAJORITY = [n for n in preaggregators.names() if preaggregators.entry(n).factory.needs_majority]


@pytest.mark.parametrize("name", each(MAJORITY))
def test_majority_rules_refuse_half_byzantine(name: str) -> None:
    with pytest.raises(ValueError, match="f < n/2"):
        build(name, f=5)(torch.randn(10, D))


@pytest.mark.parametrize("name", each(PRE_MAJORITY))
def test_majority_pre_stages_refuse_half_byzantine(name: str) -> None:
    with pytest.raises(ValueError, match="f < n/2"):
        preaggregators.make(name, f=3)(torch.randn(6, D))


@pytest.mark.parametrize("name", each(aggregators.names(), {"signmv"} | NOISY))
def test_identical_rows_give_that_row(name: str) -> None:
    row = torch.randn(D, generator=torch.Generator().manual_seed(2))
    row = 0.5 * row / row.norm()  # inside cc's and normclip's default radius of 1
    rule = build(name)
    if hasattr(rule, "set_server_update"):
        rule.set_server_update(row)
    out = rule(row.expand(N, D).clone())
    torch.testing.assert_close(out, row, rtol=1e-5, atol=1e-6)


# Rules whose output does not depend on the order of the rows (with continuous inputs, where
# no ties occur); randomized rules get a fresh instance with the same seed for each order.
@pytest.mark.parametrize("name", each(aggregators.names(), ROW_ORDER))
def test_row_order_does_not_matter(name: str) -> None:
    generator = torch.Generator().manual_seed(3)
    updates = torch.randn(N, D, generator=generator)
    updates[-F:] += 4.0
    order = torch.randperm(N, generator=generator)
    torch.testing.assert_close(
        build(name)(updates[order]), build(name)(updates), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("name", each(aggregators.names()))
def test_cuda_matches_cpu(name: str) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    updates = torch.randn(N, 3000, generator=torch.Generator().manual_seed(4))
    rule_cpu, rule_gpu = build(name), build(name)
    if hasattr(rule_gpu, "set_server_update"):
        rule_cpu.set_server_update(torch.ones(3000))
        rule_gpu.set_server_update(torch.ones(3000, device="cuda"))
    out = rule_gpu(updates.cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), rule_cpu(updates), rtol=1e-4, atol=1e-5)

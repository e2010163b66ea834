"""Run the aggregator contract on any rule, e.g. an external one before the gate.

:func:`check_aggregator` takes an :class:`~bench.aggregators.base.Aggregator` instance or class
(or any callable ``Tensor[n, d] -> Tensor[d]``, or a class building one) and runs the checks
byzbench's own rules pass in ``tests/aggregators/test_contract.py``:

- ``output-shape``: a floating ``Tensor[d]`` on honest-looking rows;
- ``non-finite-rows``: a finite output when ``f`` rows are all NaN, all ``+inf`` or all
  ``-inf`` (one check per pattern);
- ``permutation``: the same output for permuted rows (only when declared invariant);
- ``determinism``: two fresh copies give the same output on the same rows;
- ``identical-rows``: ``n`` copies of one row give that row;
- ``shape-errors``: a ``ValueError`` or ``TypeError`` with a message for a vector, an empty
  matrix and a 3-axis tensor.

Every check runs on a fresh deep copy of the rule (``reset()`` called when it has one), so a
stateful rule starts each check from the same state.  The result is a :class:`Report` whose
``str()`` is one line per check, for a command line to print.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

Rule = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it passed (``None``: not applicable, skipped) and why."""

    name: str
    passed: bool | None
    message: str


@dataclass
class Report:
    """Every check's result for the rule named ``rule``; ``passed`` when none failed."""

    rule: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.passed is False]

    def __str__(self) -> str:
        marks = {True: "PASS", False: "FAIL", None: "SKIP"}
        lines = [f"{self.rule}: {'conforms' if self.passed else 'does NOT conform'}"]
        lines += [f"  {marks[c.passed]}  {c.name}: {c.message}" for c in self.checks]
        return "\n".join(lines)


def build_rule(rule: object, f: int) -> Rule:
    """An instance from ``rule``: a class is built with ``f`` when it takes one."""
    if inspect.isclass(rule):
        takes_f = "f" in inspect.signature(rule).parameters
        return rule(f=f) if takes_f else rule()
    if not callable(rule):
        raise TypeError(f"check_aggregator expects an aggregator class or instance, got {rule!r}")
    return rule  # type: ignore[return-value]


def fresh(rule: Rule) -> Rule:
    copied = copy.deepcopy(rule)
    if hasattr(copied, "reset"):
        copied.reset()
    return copied


def run_check(name: str, body: Callable[[], str]) -> CheckResult:
    """``body`` returns a success message or raises ``AssertionError`` (a failure); any other
    exception is a failure that names it."""
    try:
        return CheckResult(name, True, body())
    except AssertionError as err:
        return CheckResult(name, False, str(err))
    except Exception as err:  # noqa: BLE001 -- an external rule may raise anything
        return CheckResult(name, False, f"raised {type(err).__name__}: {err}")


def check_aggregator(
    rule: object, *, f: int = 5, n: int = 25, d: int = 40,
    permutation_invariant: bool = True, seed: int = 0,
) -> Report:
    """Run the contract checks on ``rule`` with ``n`` rows of dimension ``d``, ``f`` of them
    Byzantine, and return the :class:`Report` (nothing is raised for a failing rule)."""
    sizes = (f, n, d)
    if not all(isinstance(v, int) for v in sizes) or not (0 <= f < n and d >= 1):
        raise ValueError(f"check_aggregator: needs integers 0 <= f < n, d >= 1; got {sizes}")
    built = build_rule(rule, f)
    label = getattr(built, "name", None) or type(built).__name__
    generator = torch.Generator().manual_seed(seed)
    honest = torch.randn(n, d, generator=generator) + 1.0
    report = Report(str(label))

    def output(rows: Tensor) -> Tensor:
        out = fresh(built)(rows)
        assert isinstance(out, Tensor), f"returned {type(out).__name__}, not a torch.Tensor"
        return out

    def shape() -> str:
        out = output(honest)
        assert tuple(out.shape) == (d,), f"output shape {tuple(out.shape)}, expected ({d},)"
        assert out.is_floating_point(), f"output dtype {out.dtype} is not floating"
        return f"Tensor[{d}] for Tensor[{n}, {d}]"

    report.checks.append(run_check("output-shape", shape))
    for pattern, value in [("nan", float("nan")), ("+inf", float("inf")), ("-inf", -float("inf"))]:

        def survives(value: float = value, pattern: str = pattern) -> str:
            rows = honest.clone()
            rows[n - f :] = value
            out = output(rows)
            assert bool(torch.isfinite(out).all()), f"non-finite output with {f} rows of {pattern}"
            return f"finite output with {f} rows of {pattern}"

        report.checks.append(run_check(f"non-finite-rows[{pattern}]", survives))

    if permutation_invariant:

        def permutation() -> str:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1))
            a, b = output(honest), output(honest[order])
            gap = float((a - b).abs().max())
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), f"permuted rows move it by {gap:.3g}"
            return f"permuted rows move it by {gap:.3g}"

        report.checks.append(run_check("permutation", permutation))
    else:
        report.checks.append(CheckResult("permutation", None, "not declared invariant"))

    def determinism() -> str:
        a, b = output(honest), output(honest)
        assert torch.equal(a, b), f"two fresh copies differ by {float((a - b).abs().max()):.3g}"
        return "two fresh copies agree exactly"

    def identical() -> str:
        row = honest[0] / honest[0].norm() * 0.5
        out = output(row.expand(n, d).clone())
        gap = float((out - row).abs().max())
        close = torch.allclose(out, row, rtol=1e-5, atol=1e-6)
        assert close, f"{n} copies of a row give an output {gap:.3g} off"
        return f"{n} copies of a row give that row ({gap:.3g} off)"

    def refuses_bad_shapes() -> str:
        bad = {"vector": torch.zeros(d), "no rows": torch.zeros(0, d),
               "three axes": torch.zeros(n, d, 2)}
        for what, tensor in bad.items():
            try:
                fresh(built)(tensor)
            except (ValueError, TypeError) as err:
                assert str(err), f"{what}: {type(err).__name__} without a message"
                continue
            raise AssertionError(f"{what} of shape {tuple(tensor.shape)} was accepted")
        return "vector, empty and 3-axis inputs refused with a message"

    report.checks.append(run_check("determinism", determinism))
    report.checks.append(run_check("identical-rows", identical))
    report.checks.append(run_check("shape-errors", refuses_bad_shapes))
    return report

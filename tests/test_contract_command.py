"""``byzbench check-aggregator``: the contract report for a named or imported rule."""

from __future__ import annotations

import pytest

from bench.cli import main


@pytest.mark.uses("cc")
def test_cc_passes_every_check(capsys) -> None:
    assert main(["check-aggregator", "cc", "--param", "tau=1.0"]) == 0
    out = capsys.readouterr().out
    assert "conforms" in out and "FAIL" not in out and out.count("PASS") == 8


@pytest.mark.uses("mean")
def test_mean_fails_the_non_finite_checks(capsys) -> None:
    assert main(["check-aggregator", "bench.aggregators.mean:Mean"]) == 1
    out = capsys.readouterr().out
    assert "does NOT conform" in out and out.count("FAIL") == 3


def test_unimportable_rule_is_a_usage_error(capsys) -> None:
    assert main(["check-aggregator", "nosuchpkg:Rule"]) == 2
    assert "cannot import 'nosuchpkg'" in capsys.readouterr().err

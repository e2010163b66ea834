"""A generated family of bad inputs (benchmarks/bad_input_counts.py): every one is refused with
a message naming its field, without a traceback, writing nothing; none is silently accepted."""

from __future__ import annotations

import pytest
from bad_input_counts import FAMILIES, tally


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_bad_input_is_refused_by_name(family: str) -> None:
    counts, unclear = tally(family)
    print(f"{family}: {sum(counts.values())} tried, " + ", ".join(
        f"{counts[v]} {v}" for v in ("clear", "unclear", "traceback", "silent")))
    assert sum(counts.values()) >= 10
    assert not unclear, "\n".join(
        f"{verdict}: {probe.label} (should name {probe.field}): {outcome.text[-500:]}"
        for probe, verdict, outcome in unclear)

"""Every test of this folder is a test of the ``pfl`` protocol's track (its components and
maths), so ``pytest -k pfl`` selects them: each is marked as using the protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.uses("pfl"))

"""byzbench's pytest plugin for running simulations: options, tiers and fixtures.

Fixtures: ``device``, ``seed_override``, ``data_root``, ``load_data`` (datasets),
``federated_split`` (client shards and class histograms) and ``make_model``.

Options: ``--tier`` (smoke, standard, paper; repeatable), ``--device`` (auto, cpu, cuda),
``--seeds`` (comma-separated training seeds), ``--data-root`` (real datasets, default
``$BYZBENCH_DATA``).  Cases of a tier that is not active are deselected; naming a tier marker in
``-m`` (``pytest -m standard``) activates it too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import bench  # noqa: F401  (registers every component)
from bench.data import DatasetUnavailable, TensorData, class_histograms
from bench.fl.build import build_model, load_dataset
from bench.registry import partitioners
from bench.scenario import Component
from pytest_byzbench.selection import drop_mark_attributes, dump_selection

TIERS = ("smoke", "standard", "paper", "gate")
SEEDS = pytest.StashKey["list[int] | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("byzbench")
    group.addoption("--tier", action="append", choices=TIERS, default=None,
                    help="tier(s) of cases to run (default: smoke; repeatable)")
    group.addoption("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="simulation device; auto = cuda when available")
    group.addoption("--seeds", default=None,
                    help="comma-separated training seeds per case (default: the grid's seeds)")
    group.addoption("--data-root", default=None,
                    help="folder of real datasets (default: $BYZBENCH_DATA)")
    group.addoption("--dump-selection", default=None, metavar="FILE",
                    help="write which component names select each collected test (id test)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "dist", "no") == "load":
        # `-n N` alone distributes test by test; `loadgroup` does the same for unmarked tests
        # and keeps each xdist_group (the cases and orderings of one setting, which share
        # their simulations) on one worker, so no simulation runs twice.
        config.option.dist = "loadgroup"
    if hasattr(config, "workerinput"):
        # One intra-op thread per xdist worker: workers already fill the cores, and torch's
        # thread pools spinning against each other made small rounds ~8x slower when measured.
        torch.set_num_threads(1)
    config.stash[SEEDS] = parse_seeds(config.getoption("--seeds"))
    root = config.getoption("--data-root")
    if root:
        if Path(root).exists() and not Path(root).is_dir():
            raise pytest.UsageError(f"--data-root {root}: is a file, not a folder")
        os.environ["BYZBENCH_DATA"] = str(Path(root).resolve())
    dump = config.getoption("--dump-selection")
    if dump and not Path(dump).resolve().parent.is_dir():
        raise pytest.UsageError(f"--dump-selection {dump}: its folder does not exist")


def parse_seeds(raw: str | None) -> list[int] | None:
    """``--seeds 0,1,2`` as integers (a usage error otherwise); ``None`` when not given."""
    if raw is None:
        return None
    try:
        seeds = [int(s) for s in raw.split(",") if s.strip()]
    except ValueError:
        raise pytest.UsageError(f"--seeds expects comma-separated integers, got {raw!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise pytest.UsageError(f"--seeds needs integers >= 0, got {raw!r}")
    if len(set(seeds)) != len(seeds):
        raise pytest.UsageError(f"--seeds repeats a seed in {raw!r}: each seed runs once")
    return seeds


def active_tiers(config: pytest.Config) -> set[str]:
    tiers = set(config.getoption("--tier") or ["smoke"])
    if config.getoption("--aggregator"):
        tiers.add("gate")
    expression = config.getoption("-m") or ""
    tiers |= {t for t in TIERS if re.search(rf"\b{t}\b", expression)}
    return tiers


def item_tier(item: pytest.Item) -> str | None:
    for tier in TIERS:
        if item.get_closest_marker(tier) is not None:
            return tier
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    drop_mark_attributes(items)
    tiers = active_tiers(config)
    keep, drop = [], []
    for item in items:
        tier = item_tier(item)
        (keep if tier is None or tier in tiers else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("--dump-selection")
    if path:
        dump_selection(session.items, Path(path))


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> str:
    """The simulation device: ``cuda`` whenever available under ``--device auto``."""
    choice = pytestconfig.getoption("--device")
    if choice == "cuda" and not torch.cuda.is_available():
        pytest.fail("--device cuda was given but torch sees no CUDA device", pytrace=False)
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


@pytest.fixture(scope="session")
def seed_override(pytestconfig: pytest.Config) -> list[int] | None:
    """Training seeds from ``--seeds``, or ``None`` to use each grid's own."""
    return pytestconfig.stash[SEEDS]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """Where real datasets live: ``$BYZBENCH_DATA`` or the user cache folder."""
    from bench.data.paths import data_root as resolve

    return resolve()


@pytest.fixture(scope="session")
def load_data() -> Callable[..., TensorData]:
    """``load_data(name, **params)``: a registered dataset as tensors (cached per process);
    skips the test, with the reason, when a real dataset is absent offline."""

    def load(name: str, **params) -> TensorData:
        try:
            return load_dataset(Component(name, params))
        except DatasetUnavailable as err:
            pytest.skip(str(err))

    return load


@pytest.fixture(scope="session")
def federated_split() -> Callable[..., tuple[list[torch.Tensor], torch.Tensor]]:
    """``federated_split(data, name, n_clients, seed, **params)``: the partitioner's client
    index shards of ``data``'s training set and their per-client class histograms."""

    def split(data: TensorData, name: str, n_clients: int, seed: int, **params):
        shards = partitioners.make(name, **params)(data.y_train, n_clients, seed)
        return shards, class_histograms(data.y_train, shards, data.num_classes)

    return split


@pytest.fixture(scope="session")
def make_model() -> Callable[..., torch.nn.Module]:
    """``make_model(name, data, **params)``: a registered model sized for ``data``."""

    def make(name: str, data: TensorData, **params) -> torch.nn.Module:
        return build_model(Component(name, params), data)

    return make

"""The case runner's pytest face: parameters, skips, progress lines, records and assertions.

Everything a verdict needs happens in :class:`bench.cases.CaseRunner`; pytest adds the marks, the
skips for a missing GPU or dataset, the record properties and the assertion.  One runner per
session (:func:`case_runner`) shares every simulation between the cases, orderings and gate
verdicts of that process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import pytest

from bench.cases import CaseRunner, Verdict
from bench.data.base import DatasetUnavailable
from bench.fl.build import load_dataset
from bench.grid import Case, GridError, load_grid, load_grids
from bench.registry import datasets
from bench.run import Progress
from pytest_byzbench.records import RECORD_PROPERTY

RUNNER = pytest.StashKey[CaseRunner]()


def shared_runs_group(case: Case) -> str:
    """The ``xdist_group`` of ``case``: its setting without defense and attack
    (``fedsgd-mnist-cnn-dirichlet_alpha1-n25f5-b0.9``).  Orderings compare the cells of one
    such group, so under ``pytest -n`` its cases and claims go to one worker and each
    simulation runs once in that worker's case runner."""
    s = case.scenario
    return "-".join([s.protocol, s.dataset.label, s.model.label, *s.settings.head(),
                     *s.settings.tail()])


def case_params(paths: list[Path], shared: Collection[Path] = ()) -> list:
    """``pytest.param`` per case of the grids at ``paths``: id from the scenario, marked with
    its tier and the components it uses.  Cases of the grids in ``shared`` (those orderings
    compare) are also marked with their :func:`shared_runs_group`."""
    params = []
    try:
        cases, problem = load_grids(paths), None
        grouped = {c.id for path in shared for c in load_grid(path)}
    except GridError as err:
        cases, problem = [], str(err)
    if problem:  # one line naming the file and field, not a collection traceback
        pytest.fail(problem, pytrace=False)
    for case in cases:
        marks = [getattr(pytest.mark, case.tier), pytest.mark.uses(*case.components)]
        if case.id in grouped:
            marks.append(pytest.mark.xdist_group(shared_runs_group(case)))
        if case.xfail is not None:
            marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def case_runner(config: pytest.Config, device: str) -> CaseRunner:
    """The session's case runner on ``device``."""
    if RUNNER not in config.stash:
        config.stash[RUNNER] = CaseRunner(device)
    return config.stash[RUNNER]


def progress_printer(label: str, config: pytest.Config | None = None
                     ) -> Callable[[int, Progress], None]:
    """Print each evaluated step: values so far and elapsed time.  Given the pytest config,
    lines go to the terminal even while output is captured (``-vv``)."""
    start = time.perf_counter()

    def show(seed: int, p: Progress) -> None:
        values = " ".join(f"{k} {v:.4g}" for k, v in p.values.items())
        line = (f"[{label} seed {seed}] step {p.step}/{p.steps} {values} "
                f"{time.perf_counter() - start:.1f}s")
        plugins = config.pluginmanager if config is not None else None
        capture = plugins.getplugin("capturemanager") if plugins else None
        terminal = plugins.getplugin("terminalreporter") if plugins else None
        if capture is None or terminal is None:
            print(line, flush=True)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)
            terminal.flush()

    return show


def skip_unless_runnable(case: Case, device: str) -> None:
    """Skip, with the reason, a case whose tier needs a GPU or whose dataset is absent."""
    if case.tier == "paper" and not device.startswith("cuda"):
        pytest.skip("paper tier needs a CUDA device; none is available here")
    registry = case.protocol.slots["dataset"]
    spec = case.scenario.dataset
    try:
        if registry is datasets:
            load_dataset(spec)
        else:  # another protocol's data kind: building it checks its files
            registry.make(spec.name, **spec.params)
    except DatasetUnavailable as err:
        pytest.skip(str(err))


def claim_param(test_id: str, components: Iterable[str], *values: object,
                measured: str | None = None):
    """``pytest.param(*values)`` of a standard-tier claim with id ``test_id``, marked with the
    components it compares (so ``-k NAME`` selects it); ``measured`` (the value measured where
    the claim fails) makes it a strict expected failure with that reason."""
    marks = [pytest.mark.standard, pytest.mark.uses(*components)]
    if measured is not None:
        marks.append(pytest.mark.xfail(reason=measured, strict=True))
    return pytest.param(*values, id=test_id, marks=marks)


def attach(record_property: Callable[[str, object], None], verdict: Verdict) -> None:
    for record in verdict.records:
        record_property(RECORD_PROPERTY, record.to_json())


def run_case(case: Case, device: str, seeds: list[int] | None,
             record_property: Callable[[str, object], None],
             config: pytest.Config, verbose: bool = False) -> Verdict:
    """Simulate ``case`` for each seed, attach every record, and assert its verdict."""
    skip_unless_runnable(case, device)
    progress = progress_printer(case.id, config) if verbose else None
    result = case_runner(config, device).evaluate(case, seeds, progress)
    attach(record_property, result)
    assert result.passed, result.summary()
    return result

"""The byzbench console command.

  byzbench run [GRID ...]   run grids (default: the shipped smoke-bite grid on scikit-learn's
                            digits, no download), save each record as it finishes, build the
                            leaderboard
  byzbench list [KIND]      registered components with their one-line summaries
  byzbench report ...       build and merge leaderboards from records
  byzbench check-aggregator RULE   the aggregator contract on an external rule

GRID is a path to a YAML grid or the name of a shipped grid (smoke, smoke-fedavg,
standard-mnist, ...; byzbench list grids).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections import defaultdict
from pathlib import Path

from bench.leaderboard.cli import register as register_report_commands

DEFAULT_GRIDS = ["smoke-bite"]
LOCAL_RAY = "local"


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


def _int_at_least(minimum: int, wording: str):
    """An argparse type: an integer >= ``minimum``, described as ``wording`` in errors."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "an integer >= 0")


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 0,1,2, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"expected integers >= 0, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds repeat in {text!r}: each seed runs once")
    return seeds


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was given but torch sees no CUDA device")
    return choice


def _finite_float(text: str, least: float, strict: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > least if strict else value >= least) or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a number {'>' if strict else '>='} {least:g}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _finite_float(text, 0.0, strict=True)


def _non_negative_float(text: str) -> float:
    return _finite_float(text, 0.0, strict=False)


def _grid_paths(specs: list[str]) -> list[Path]:
    from bench.grids import grid_path

    paths = []
    for spec in specs:
        path = Path(spec)
        if path.suffix in (".yaml", ".yml") or path.exists():
            paths.append(path)
            continue
        try:
            paths.append(grid_path(spec))
        except FileNotFoundError as err:
            raise UsageError(f"grid {spec!r}: not a file, and {err}") from None
    return paths


def _output_folder(path: Path) -> None:
    import os

    if path.exists() and not path.is_dir():
        raise UsageError(f"--leaderboard {path}: is a file, not a folder")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--leaderboard {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--leaderboard {path}: {probe} is not writable")


RAY_DEFAULTS = {"gpus_per_run": 0.0, "cpus_per_run": 1.0, "retries": 2}


def _backend(args: argparse.Namespace):
    """The backend ``args`` ask for, its device, and its description for the header line."""
    from bench.schedule import BatchedBackend, ProcessBackend, SerialBackend, default_workers

    if args.ray is None:
        given = [f"--{o.replace('_', '-')}" for o, default in RAY_DEFAULTS.items()
                 if getattr(args, o) != default]
        if given:
            raise UsageError(f"{', '.join(given)}: only used with --ray")
        device = _device(args.device)
        if args.batch > 1:
            return (BatchedBackend(device, args.batch, args.threads), device,
                    f"1 worker, FedSGD runs in lockstep batches of up to {args.batch}")
        workers = args.jobs or default_workers()
        backend = (SerialBackend(device, args.threads) if workers == 1
                   else ProcessBackend(device, workers, args.threads))
        return backend, device, f"{workers} worker{'s' if workers > 1 else ''}"

    from bench.cluster import ClusterError, RayBackend, ray_device

    address = None if args.ray == LOCAL_RAY else args.ray
    workers = args.jobs or (default_workers() if address is None else None)
    gpus = args.gpus_per_run
    try:
        device = ray_device(args.device, gpus)
        backend = RayBackend(device, address, workers, args.cpus_per_run, gpus, args.retries,
                             args.threads)
    except ClusterError as err:
        raise UsageError(str(err)) from None
    cluster = f"Ray at {address}" if address else f"a local Ray of {workers} workers"
    return backend, device, (f"{cluster}, {backend.cpus_per_run:g} CPU and {gpus:g} GPU per "
                             f"run, {backend.retries} retries")


def run(args: argparse.Namespace) -> int:
    from bench.cases import verdict
    from bench.cluster import ClusterError
    from bench.data.base import DatasetUnavailable
    from bench.fl.build import load_dataset
    from bench.grid import GridError, load_grids
    from bench.leaderboard import build
    from bench.progress import ProgressBar
    from bench.registry import datasets
    from bench.schedule import Job, existing_keys, run_jobs

    paths = _grid_paths(args.grid or DEFAULT_GRIDS)
    try:
        cases = load_grids(paths)
    except GridError as err:
        raise UsageError(str(err)) from None
    if args.select is not None:
        cases = [c for c in cases if any(args.select in name for name in c.components)]
        if not cases:
            raise UsageError(f"--select {args.select}: no case of {', '.join(map(str, paths))} "
                             "uses a component whose name contains it")
    _output_folder(args.leaderboard)
    backend, device, workers = _backend(args)
    for case in cases:
        if case.protocol.slots["dataset"] is datasets:
            try:
                load_dataset(case.scenario.dataset)
            except DatasetUnavailable as err:
                raise UsageError(f"{case.id}: {err}") from None
    runnable = cases
    jobs = [Job(case, seed) for case in runnable for seed in (args.seeds or case.seeds)]
    existing = existing_keys(args.leaderboard) if args.resume else None
    grids = ", ".join(p.name for p in paths)
    print(f"byzbench: {len(cases)} cases x seeds = {len(jobs)} runs from {grids} on {device}, "
          f"{workers}; records go to "
          f"{args.leaderboard / 'records'} as each run finishes", flush=True)
    bar = ProgressBar(len(jobs), sys.stdout)
    try:
        results, tally = run_jobs(jobs, backend, args.leaderboard, existing,
                                  on_result=lambda r, t: bar.update(t, r),
                                  on_start=lambda j, t: bar.update(t))
    except ClusterError as err:  # the cluster cannot take the runs (checked before any starts)
        raise UsageError(str(err)) from None
    bar.close(tally)

    by_case = defaultdict(list)
    failures = []
    for result in results:
        if result.record is None:
            failures.append(result)
        else:
            by_case[result.job.case.id].append(result.record)
    verdicts = [verdict(c, by_case[c.id]) for c in runnable if by_case.get(c.id)]
    failed_cases = [v for v in verdicts if not v.passed]
    for v in failed_cases:
        print(f"FAILED {v.case.id}: {v.summary()}")
    for result in failures:
        print(f"ERROR {result.job.label}: {result.error.splitlines()[0]}")
    written: list[Path] = []
    unbuilt = None
    try:
        if (args.leaderboard / "records").is_dir():
            written = build(args.leaderboard, skip_bad=True)
    except OSError as err:
        unbuilt = f"leaderboard {args.leaderboard} not rebuilt: {err}"
    _summary(verdicts, failures, tally, written, args.leaderboard)
    if unbuilt:
        print(f"byzbench: error: {unbuilt}", file=sys.stderr)
    return 1 if failed_cases or failures or unbuilt else 0


def _summary(verdicts, failures, tally, written, out: Path) -> None:
    passed = sum(v.passed for v in verdicts)
    protocols = sorted({v.case.scenario.protocol for v in verdicts})
    medians = [v.median for v in verdicts if v.case.protocol.primary().unit == "fraction"]
    seeds = sorted({len(v.records) for v in verdicts})
    print(f"byzbench: {passed} of {len(verdicts)} cases passed, {len(verdicts) - passed} "
          f"failed, {len(failures)} runs raised an error, {tally.skipped} runs skipped as already "
          f"recorded; {tally.elapsed:.0f} s")
    if verdicts:
        budget = verdicts[0].case.scenario.settings
        epochs = getattr(budget, "epochs", None)
        what = (f"final test accuracy of the server model after {epochs:g} epochs"
                if epochs is not None else verdicts[0].case.protocol.primary().summary)
        print(f"  each cell is the median {what} over {'/'.join(map(str, seeds))} training "
              f"seed(s) ({', '.join(protocols)})"
              + (f"; cells range {100 * min(medians):.1f}-{100 * max(medians):.1f}%"
                 if medians else ""))
    if written:
        print(f"  leaderboard: {out / 'leaderboard.md'} (and .html, .csv, .tex, figures/), built "
              f"from every record in {out / 'records'}")


def list_components(args: argparse.Namespace) -> int:
    from bench.grids import GRIDS
    from bench.registry import ALL

    if args.kind == "grids":
        for path in sorted(GRIDS.glob("*.yaml")):
            print(f"  {path.stem}")
        return 0
    kinds = [args.kind] if args.kind else list(ALL)
    for kind in kinds:
        if kind not in ALL:
            raise UsageError(f"unknown kind {kind!r}; known: {', '.join(ALL)}, grids")
        names = ALL[kind].names()
        print(f"{kind} ({len(names)}):")
        for name in names:
            entry = ALL[kind].entry(name)
            tags = f" [{', '.join(sorted(entry.tags))}]" if entry.tags else ""
            print(f"  {name:22s} {entry.summary}{tags}")
    return 0


def check_aggregator_command(args: argparse.Namespace) -> int:
    import yaml

    from bench.aggregators.conformance import check_aggregator
    from bench.external import register_external
    from bench.registry import RegistryError, aggregators

    params = {}
    for pair in args.param:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects K=V, got {pair!r}")
        params[key.strip()] = yaml.safe_load(value)
    try:
        name = register_external(args.rule)
        rule = aggregators.make_with_optional(name, {"f": args.f}, **params)
    except RegistryError as err:
        raise UsageError(str(err)) from None
    report = check_aggregator(rule, f=args.f, n=args.n,
                              permutation_invariant=not args.order_dependent)
    print(report)
    return 0 if report.passed else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="byzbench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from bench.schedule import default_workers

    p_run = sub.add_parser("run", help="run grids and write a leaderboard",
                           description="Run every case of the grids for its seeds, save each "
                                       "record as it finishes and build the leaderboard.")
    p_run.add_argument("grid", nargs="*", metavar="GRID",
                       help="grid files or shipped grid names (default: smoke-bite)")
    p_run.add_argument("--leaderboard", type=Path, default=Path("reports/out"), metavar="DIR",
                       help="output folder: DIR/records/*.json and the leaderboard files "
                            "(default: %(default)s)")
    p_run.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                       help=f"worker processes (1: run in this process; default: one per "
                            f"core, here {default_workers()}); with --ray, the most runs at "
                            "once (default: a local Ray of one per core, or all a cluster holds)")
    p_run.add_argument("--batch", type=_positive_int, default=1, metavar="R",
                       help="play up to R compatible FedSGD runs in lockstep in this process, "
                            "their client gradients in one call (records equal to running each "
                            "alone; pays on a GPU); R > 1 implies -j 1 (default: %(default)s)")
    p_run.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                       help="simulation device (default: auto, cuda when torch sees one)")
    p_run.add_argument("--seeds", type=_seed_list, default=None, metavar="S,S,...",
                       help="comma-separated training seeds (default: each grid's own)")
    p_run.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="torch threads per worker (default: 1 with -j > 1, torch's default "
                            "otherwise)")
    p_run.add_argument("--select", default=None, metavar="NAME",
                       help="only cases using a component whose name contains NAME "
                            "(default: every case)")
    p_run.add_argument("--resume", action="store_true",
                       help="skip runs whose valid record is already in DIR/records")
    p_run.add_argument("--ray", nargs="?", const=LOCAL_RAY, default=None, metavar="ADDRESS",
                       help="run each case x seed as a Ray task on the cluster at ADDRESS "
                            "(host:port of `ray start --head`, or auto); without ADDRESS, on a "
                            "Ray started on this machine for the run (pip install byzbench[ray])")
    p_run.add_argument("--gpus-per-run", type=_non_negative_float,
                       default=RAY_DEFAULTS["gpus_per_run"], metavar="G",
                       help="with --ray: GPUs each run declares (fractions share a GPU, "
                            "0.25: four runs per GPU; 0: runs on CPU)")
    p_run.add_argument("--cpus-per-run", type=_positive_float,
                       default=RAY_DEFAULTS["cpus_per_run"], metavar="C",
                       help="with --ray: CPUs each run declares")
    p_run.add_argument("--retries", type=_non_negative_int, default=RAY_DEFAULTS["retries"],
                       metavar="R", help="with --ray: times a run is retried when its worker "
                                         "dies")
    p_run.set_defaults(handler=run)
    p_list = sub.add_parser("list", help="list registered components (or shipped grids)")
    p_list.add_argument("kind", nargs="?", default=None,
                        help="one kind (aggregators, attacks, protocols, engines, ... or grids)")
    p_list.set_defaults(handler=list_components)
    p_check = sub.add_parser(
        "check-aggregator", help="run the aggregator contract on a rule (before the gate)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p_check.add_argument("rule", metavar="RULE",
                         help="module:Class, an entry point of byzbench.aggregators, or a name")
    p_check.add_argument("--param", action="append", default=[], metavar="K=V",
                         help="hyperparameter (repeatable; YAML values)")
    p_check.add_argument("--f", type=int, default=5, help="Byzantine rows the rule assumes")
    p_check.add_argument("--n", type=_positive_int, default=25, help="rows per check")
    p_check.add_argument("--order-dependent", action="store_true",
                         help="skip the permutation check (the rule depends on row order)")
    p_check.set_defaults(handler=check_aggregator_command)
    register_report_commands(sub)
    return top


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a CI timeout, a scheduler) ends the run like Ctrl-C: workers stopped, every
    finished record kept."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import bench  # noqa: F401  (registers every component)
    from bench.schedule import RecordSaveError

    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return args.handler(args)
    except UsageError as err:
        print(f"byzbench: error: {err}", file=sys.stderr)
        return 2
    except RecordSaveError as err:
        print(f"byzbench: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("byzbench: interrupted; every finished run's record is saved (use --resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

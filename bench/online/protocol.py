"""Protocol ``online``: a model trained on a stream under accumulative poisoning (seed 000).

One run is :class:`~bench.online.stream.OnlineRun` on the scenario's pixel dataset and model:
burn-in, the attack's accumulative phase (``none``: no phase), the trigger batch; accuracy on the
test set before and after the trigger.  The defense slot is a feature-space detector (seed 000
§B.3): fitted on the penultimate features of the correctly classified training samples at the
model the trigger meets, it scores the crafted inputs against the clean test inputs, and its
AUROC is reported (our metric; the appendix gives none).  Detection does not filter the stream:
Δ measures the attack, AUROC whether the detector would have seen it.

The leaderboard groups runs by variant (stream or federated threat model), perturbation, and
trigger with its ε (a clean trigger is its own group, named by the ε of its accumulative
batches); each group shows Table 1's before / after / Δ side by side per detector x attack x
tricks row, and a detectors x attacks table of AUROC (higher: the detector sees the attack).

The burn-in is the same for every cell of a grid that shares data, model, stream lengths and
seeds, so its result is computed once per process and reused (:func:`burned_in`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor, nn

from bench.fl.build import build_model, load_dataset
from bench.online.detectors import FeatureDetector, auroc
from bench.online.paper_table import TriggerTable
from bench.online.poisonings import Poisoning
from bench.online.settings import OnlineSettings
from bench.online.stream import OnlineRun, StreamConfig, StreamOutcome
from bench.registry import (
    datasets,
    detectors,
    models,
    perturbations,
    poisonings,
    protocols,
    threatmodels,
)
from bench.run import Grouping, MetricSpec, Outcome, Progress, Protocol, Seeds, Table
from bench.scenario import Component, Scenario

ONLINE_METRICS = (
    MetricSpec("delta", "points", True, "accuracy after minus before the trigger batch, in "
               "percentage points (seed 000 Table 1's Δ; more negative = more damage)"),
    MetricSpec("accuracy_before", "fraction", True, "test accuracy just before the trigger"),
    MetricSpec("accuracy_after", "fraction", True, "test accuracy just after the trigger"),
    MetricSpec("poison_ratio", "fraction", None, "poisoned share of the samples after the "
               "burn-in (online) or of the clients per round (federated)"),
    MetricSpec("seconds_vanilla", "s", None, "seconds crafting the poisoned trigger batch"),
    MetricSpec("seconds_accumulative", "s", None, "seconds crafting one accumulative batch"),
    MetricSpec("time_ratio", "ratio", None, "seconds_accumulative / seconds_vanilla in one run "
               "(seed 000 §A.3: 2.47 / 2.33 = 1.06)"),
    MetricSpec("auroc", "fraction", True, "detector's AUROC of crafted vs clean test inputs "
               "(higher = the detector sees the attack; 0.5 = chance; lower = stealthier "
               "attack; undefined when nothing is crafted)"),
    MetricSpec("offset_error", "relative", False, "largest ||G - G*|| / ||G*|| of the "
               "federated aggregate against the recovered offset's target"),
    MetricSpec("test_size", "count", None, "test-set size (one image is 1/test_size)"),
)


def has_features(model: nn.Module) -> bool:
    """Whether :func:`penultimate` can read ``model``: a sequential model, or one with a
    ``features`` method (the residual networks)."""
    return isinstance(model, nn.Sequential) or callable(getattr(model, "features", None))


def penultimate(model: nn.Module, x: Tensor, chunk: int = 2000) -> Tensor:
    """Features before the last layer, ``Tensor[N, D]``: ``model.features`` where the model has
    one, else every layer but the last of an ``nn.Sequential``."""
    body = model.features if callable(getattr(model, "features", None)) else model[:-1]
    with torch.no_grad():
        return torch.cat([body(x[i:i + chunk]).flatten(1) for i in range(0, x.shape[0], chunk)])


def predictions(model: nn.Module, x: Tensor, chunk: int = 2000) -> Tensor:
    with torch.no_grad():
        return torch.cat([model(x[i:i + chunk]).argmax(1) for i in range(0, x.shape[0], chunk)])


def detector_auroc(detector: FeatureDetector, model: nn.Module, train: tuple[Tensor, Tensor],
                   clean: Tensor, crafted: Tensor) -> float:
    """Fit ``detector`` on ``train``'s features at ``model``, then AUROC of ``crafted`` vs
    ``clean`` inputs (low normality score = flagged)."""
    detector.fit(penultimate(model, train[0]), train[1], predictions(model, train[0]))
    score = [detector.score(penultimate(model, x), predictions(model, x)) for x in (clean,
                                                                                   crafted)]
    return auroc(*score)


def stream_config(settings: OnlineSettings, poisoning: Poisoning) -> StreamConfig:
    return StreamConfig(
        batch_size=settings.batch_size, burnin_batches=settings.burnin_batches,
        accumulative_batches=settings.accumulative_batches, lr=settings.lr,
        burnin_lr=settings.burnin_lr,
        weight_momentum=settings.weight_momentum, accumulate=poisoning.phase,
        optimize_trigger=settings.optimize_trigger, gamma=poisoning.gamma,
        attacked=settings.attacked, offset_scale=settings.offset_scale,
        clients=settings.clients if settings.threat is not None else None)


def pixel_data(spec: Component, settings: OnlineSettings, split_seed: int):  # noqa: ANN201
    data = load_dataset(spec).subset_train(settings.max_train, split_seed)
    return (data.x_train, data.y_train), (data.x_test, data.y_test)


@lru_cache(maxsize=16)
def burned_in(scenario_json: str, split_seed: int, train_seed: int
              ) -> tuple[dict[str, Tensor], torch.Tensor, float]:
    """Model state and generator state after the burn-in of ``scenario_json`` (the dataset,
    model and stream fields only), and its seconds."""
    import json

    from bench.run import seed_everything

    spec = json.loads(scenario_json)
    settings = OnlineSettings(**spec["settings"])
    data = load_dataset(Component.parse(spec["dataset"], "dataset"))
    seed_everything(train_seed)
    model = build_model(Component.parse(spec["model"], "model"), data)
    train, test = pixel_data(Component.parse(spec["dataset"], "dataset"), settings, split_seed)
    run = OnlineRun(model, train, test, stream_config(settings, poisonings.make("none")),
                    torch.Generator().manual_seed(train_seed))
    start = time.perf_counter()
    run.burn_in()
    seconds = time.perf_counter() - start
    return ({k: v.clone() for k, v in model.state_dict().items()},
            run.generator.get_state(), seconds)


def burn_in_key(scenario: Scenario) -> str:
    import json

    sc: OnlineSettings = scenario.settings  # type: ignore[assignment]
    stream = {"batch_size": sc.batch_size, "burnin_batches": sc.burnin_batches, "lr": sc.lr,
              "burnin_lr": sc.burnin_lr,
              "max_train": sc.max_train}
    return json.dumps({"dataset": scenario.dataset.to_dict(), "model": scenario.model.to_dict(),
                       "settings": stream}, sort_keys=True)


@protocols.register("online")
class OnlineProtocol(Protocol):
    """Online learning on a poisoned stream: burn-in, accumulative phase, trigger (seed 000)."""

    name = "online"
    settings = OnlineSettings
    slots = {"dataset": datasets, "model": models, "attack": poisonings, "defense": detectors}
    metrics = ONLINE_METRICS
    grouping = Grouping(rows=("defense", "attack", "tricks"), columns=(),
                        groups=("dataset", "model", "variant", "perturbation", "budget"),
                        baseline=None,
                        metric_columns=("accuracy_before", "accuracy_after", "delta"),
                        secondary=(Table("auroc", rows=("defense",),
                                         columns=("attack", "tricks")),))

    def reference_table(self, raw: dict[str, Any], where: str) -> TriggerTable:
        """Seed 000 Table 1's rows of before / after / Δ (:mod:`bench.online.paper_table`)."""
        return TriggerTable(raw, where, set(self.settings.field_names()))

    def validate(self, scenario: Scenario) -> None:
        """Pixel data, a model with penultimate features (they feed the detector), and
        every component built with its parameters."""
        sc: OnlineSettings = scenario.settings  # type: ignore[assignment]
        if "pixels" not in datasets.tags(scenario.dataset.name):
            pixel = sorted(n for n in datasets.names() if "pixels" in datasets.tags(n))
            raise ValueError(f"dataset {scenario.dataset.name!r} is standardised; the online "
                             f"protocol crafts poisons in the pixel box [0, 1] and needs one of "
                             f"{', '.join(pixel)}")
        poisonings.make(scenario.attack.name, **scenario.attack.params)
        perturbations.make(sc.perturbation.name, eps=sc.eps, norm=sc.norm,
                           **sc.perturbation.params)
        detectors.make(scenario.defense.aggregator.name, **scenario.defense.aggregator.params)
        if sc.threat is not None:
            threatmodels.make(sc.threat.name, **sc.threat.params)
        if "offline" in datasets.tags(scenario.dataset.name):
            data = load_dataset(scenario.dataset)
            model = build_model(scenario.model, data)
            if not has_features(model):
                raise ValueError(f"model {scenario.model.label} is neither sequential nor has "
                                 "a features method; the detectors need its penultimate "
                                 "features")
            pool = min(data.y_train.shape[0], sc.max_train or data.y_train.shape[0])
            if pool < 2 * sc.batch_size or data.y_test.shape[0] <= sc.batch_size:
                raise ValueError(f"{scenario.dataset.label}: {pool} training / "
                                 f"{data.y_test.shape[0]} test samples are too few for "
                                 f"batch_size={sc.batch_size} (needs 2 batches / more than 1)")

    def execute(self, scenario: Scenario, seeds: Seeds, device: torch.device,
                progress: Callable[[Progress], None] | None) -> Outcome:
        sc: OnlineSettings = scenario.settings  # type: ignore[assignment]
        poisoning = poisonings.make(scenario.attack.name, **scenario.attack.params)
        data = load_dataset(scenario.dataset)
        model = build_model(scenario.model, data)
        state, generator_state, burn_seconds = burned_in(burn_in_key(scenario), seeds.split,
                                                         seeds.train)
        model.load_state_dict(state)
        train, test = pixel_data(scenario.dataset, sc, seeds.split)
        generator = torch.Generator().manual_seed(seeds.train)
        run = OnlineRun(model, train, test, stream_config(sc, poisoning), generator)
        generator.set_state(generator_state)
        run.burned = True
        perturbation = perturbations.make(sc.perturbation.name, eps=sc.eps, norm=sc.norm,
                                          **sc.perturbation.params)
        threat = None if sc.threat is None else threatmodels.make(sc.threat.name,
                                                                  **sc.threat.params)
        start = time.perf_counter()
        outcome = run.run(perturbation, sc.trigger == "poisoned", threat)
        stream_seconds = time.perf_counter() - start
        score, detect_seconds = None, 0.0
        if outcome.crafted is not None:
            start = time.perf_counter()
            detector = detectors.make(scenario.defense.aggregator.name,
                                      **scenario.defense.aggregator.params)
            model.load_state_dict(outcome.state_before)
            score = detector_auroc(detector, model, train, run.test[0], outcome.crafted)
            detect_seconds = time.perf_counter() - start
        if progress is not None:
            progress(Progress(1, 1, {"delta": outcome.delta}))
        return Outcome(
            metrics=_metrics(outcome, run.test[1].shape[0], score),
            phases={"burnin": burn_seconds, "stream": stream_seconds,
                    "detector": detect_seconds},
            counters={"batches": sc.burnin_batches + 1
                      + (sc.accumulative_batches if poisoning.phase else 0)},
        )


def _metrics(outcome: StreamOutcome, test_size: int, score: float | None
             ) -> dict[str, float | None]:
    vanilla, accumulative = outcome.seconds_vanilla, outcome.seconds_accumulative
    ratio = accumulative / vanilla if vanilla and accumulative else None
    return {
        "delta": outcome.delta,
        "accuracy_before": outcome.accuracy_before / 100,
        "accuracy_after": outcome.accuracy_after / 100,
        "poison_ratio": outcome.poison_ratio,
        "seconds_vanilla": vanilla,
        "seconds_accumulative": accumulative,
        "time_ratio": ratio,
        "auroc": score,
        "offset_error": outcome.offset_error,
        "test_size": float(test_size),
    }

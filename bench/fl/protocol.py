"""What the federated protocols declare alike: slots, metrics, grouping and load-time checks."""

from __future__ import annotations

import json
from functools import lru_cache

import torch

from bench.data.base import DatasetUnavailable
from bench.fl.build import build_attack, build_defense, build_model, load_dataset
from bench.fl.settings import FederatedSettings
from bench.registry import aggregators, attacks, datasets, models, partitioners, preaggregators
from bench.run import Grouping, MetricSpec, Protocol
from bench.scenario import Defense, Scenario

FEDERATED_METRICS = (
    MetricSpec("final_accuracy", "fraction", True, "test accuracy of the server model at the end"),
    MetricSpec("best_accuracy", "fraction", True, "best test accuracy over the evaluated epochs"),
    MetricSpec("test_size", "count", None, "test-set size (one image is 1/test_size of accuracy)"),
    MetricSpec("attack_success_rate", "fraction", False,
               "backdoors only: triggered non-target test inputs classified as the target, at "
               "the end"),
)


class FederatedProtocol(Protocol):
    """Base of ``fedsgd`` and ``fedavg``: components from the shared zoo, accuracy metrics
    (and backdoors' attack success rate, ranked in a second table), one table per dataset,
    split, model and client setting."""

    slots = {"dataset": datasets, "model": models, "attack": attacks, "defense": aggregators,
             "pre": preaggregators}
    metrics = FEDERATED_METRICS
    grouping = Grouping(groups=("dataset", "split", "model", "n", "f", "beta"),
                        secondary=("attack_success_rate",))

    def participants(self, settings: FederatedSettings) -> int:
        """Rows the defense aggregates in one round."""
        return settings.n

    def validate(self, scenario: Scenario) -> None:
        """Every precondition checkable before training: each component builds with its
        parameters, the defense runs on a matrix of this round size (so a rule's own bound,
        such as ``f < n/2``, fails here), and the data set gives every client a batch."""
        sc: FederatedSettings = scenario.settings  # type: ignore[assignment]
        rows = self.participants(sc)
        robust = "baseline" not in aggregators.tags(scenario.defense.aggregator.name)
        if robust and 2 * sc.f >= rows:
            raise ValueError(
                f"f={sc.f} Byzantine of {rows} clients per round is not a minority: robust "
                f"defense {scenario.defense.label} needs 2f < {rows}")
        partitioners.make(sc.split.name, **sc.split.params)
        build_attack(scenario.attack)
        _dry_run(json.dumps(scenario.defense.to_dict(), sort_keys=True), sc.f, rows)
        if "offline" not in datasets.tags(scenario.dataset.name):
            return
        try:
            data = load_dataset(scenario.dataset)
        except DatasetUnavailable:
            return
        build_model(scenario.model, data)
        pool = data.y_train.shape[0] if sc.max_train is None else min(sc.max_train,
                                                                     data.y_train.shape[0])
        per_client = pool / sc.n
        if per_client < sc.batch_size:
            raise ValueError(
                f"n={sc.n} clients share {pool} training samples of {scenario.dataset.label} "
                f"({per_client:.1f} each), fewer than one batch of batch_size={sc.batch_size}")


@lru_cache(maxsize=512)
def _dry_run(defense_json: str, f: int, rows: int) -> None:
    defense = build_defense(Defense.from_dict(json.loads(defense_json)), f)
    rule = defense.aggregator if hasattr(defense, "aggregator") else defense
    gen = torch.Generator().manual_seed(0)
    updates = torch.randn(rows, 4, generator=gen)
    if getattr(rule, "root_size", 0):
        rule.set_server_update(torch.randn(4, generator=gen))
    out = defense(updates)
    if tuple(out.shape) != (4,):
        raise ValueError(f"defense {defense_json} returned shape {tuple(out.shape)} for a "
                         f"[{rows}, 4] update matrix")


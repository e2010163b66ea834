"""The measured engine rule (bench.fl.engines.preferred_engine) for every registered model."""

from __future__ import annotations

import pytest
import torch

import bench  # noqa: F401  (registers every component)
from bench.fl.engines import engines, preferred_engine
from bench.registry import models

# On a CPU the loop wins for models with convolutions; vmap wins for the others and on CUDA.
CPU_CHOICE = {"cnn": "sequential", "resnet20": "sequential", "resnet9": "sequential",
              "resnet18": "sequential", "mlp": "vmap", "linear": "vmap"}
SHAPES = {"cnn": (1, 28, 28), "mlp": (1, 28, 28), "linear": (1, 28, 28)}


def test_every_registered_model_has_an_expected_choice() -> None:
    assert set(CPU_CHOICE) == set(models.names())
    assert set(CPU_CHOICE.values()) <= set(engines.names())


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.uses(n), id=n) for n in sorted(CPU_CHOICE)]
)
def test_engine_rule_per_device(name: str) -> None:
    model = models.make(name, input_shape=SHAPES.get(name, (3, 32, 32)), num_classes=10)
    assert preferred_engine(model, torch.device("cpu")) == CPU_CHOICE[name]
    assert preferred_engine(model, torch.device("cuda")) == "vmap"

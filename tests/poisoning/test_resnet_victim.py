"""Seed 002's CIFAR-10 victim (ResNet-18, GroupNorm) and its data, at tiny size on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.poisoning.settings import RetrainSettings
from bench.registry import datasets, victims
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

TINY = {"width": 2, "groups": 2, "epochs": 2, "batch_size": 4, "lr": 0.05}
COLOURS = {"airplane": (10, 200, 10), "bird": (200, 10, 10), "cat": (10, 10, 200)}


def build(**overrides):
    return victims.make_with_optional("resnet18", {"c_r": 1e-3, "classes": 3,
                                                   "features": 3 * 32 * 32},
                                      **{**TINY, **overrides})


@pytest.fixture
def jpeg_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CIFAR-10-layout folder of 3 classes, 4 train and 2 test noisy images each."""
    monkeypatch.setenv("BYZBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("BYZBENCH_DOWNLOAD", raising=False)
    rng = np.random.default_rng(0)
    for split, count in (("train", 4), ("test", 2)):
        for name, colour in COLOURS.items():
            folder = tmp_path / "cifar10-jpg" / split / name
            folder.mkdir(parents=True)
            for k in range(count):
                noisy = np.clip(np.array(colour) + rng.normal(0, 20, (32, 32, 3)), 0, 255)
                Image.fromarray(noisy.astype(np.uint8)).save(folder / f"{k:04d}.png")
    return tmp_path


@pytest.mark.uses("resnet18")
def test_resnet18_victim_has_the_cifar_resnet18_parameters() -> None:
    victim = victims.make_with_optional("resnet18", {"c_r": 1e-3, "classes": 10,
                                                     "features": 3072})
    params = victim.initial(torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in params.values()) == 11_173_962
    assert tuple(params)[-2:] == ("head.weight", "head.bias")
    assert all(params[k].ndim > 1 for k in victim.objective.regularized)
    with pytest.raises(ValueError, match="3 x s x s"):
        build(features=784)
    with pytest.raises(ValueError, match="multiple of groups"):
        build(width=3)


@pytest.mark.uses("resnet18")
def test_resnet18_victim_is_seeded_and_scores_the_same_in_chunks() -> None:
    x = np.random.default_rng(1).random((10, 3072))
    y = np.arange(10) % 3
    state = torch.get_rng_state()
    first, again = build().fit(x, y), build().fit(x, y)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone
    assert all(torch.equal(first[k], again[k]) for k in first)
    whole, pieces = build(chunk=10), build(chunk=3)
    assert whole.score(first, x, y) == pieces.score(first, x, y)
    assert whole.tau(first, x, y) == pytest.approx(pieces.tau(first, x, y), rel=1e-5)
    torch.testing.assert_close(pieces.penultimate(first, torch.as_tensor(x)),
                               whole.penultimate(first, torch.as_tensor(x)))


@pytest.mark.parametrize("name", [pytest.param("cifar10-pixels", id="cifar10-pixels",
                                               marks=pytest.mark.uses("cifar10-pixels"))])
def test_flattens_the_jpeg_folders(jpeg_folders: Path, name: str) -> None:
    data = datasets.make(name)
    assert data.x_train.shape == (12, 3072) and data.x_test.shape == (6, 3072)
    assert data.classes == 3 and (data.lower, data.upper) == (0.0, 1.0)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    small = datasets.make("cifar10-pixels", train=5, test=2, seed=3)
    assert small.x_train.shape == (5, 3072) and small.y_test.shape == (2,)
    rows = {tuple(r) for r in data.x_train}
    assert all(tuple(r) in rows for r in small.x_train)
    with pytest.raises(ValueError, match="train must lie in"):
        datasets.make("cifar10-pixels", train=13)


RUN = ("retrain", "cifar10-pixels", "resnet18", "gc", "gradpc")


@pytest.mark.parametrize("components", [pytest.param(RUN, id="-".join(RUN),
                                                     marks=pytest.mark.uses(*RUN))])
def test_retrain_cifar10_pixels_resnet18_gc_run(jpeg_folders: Path, components) -> None:
    scenario = Scenario("retrain", Component("cifar10-pixels"),
                        Component("resnet18", {**TINY, "chunk": 5}), Defense(Component("none")),
                        Component("gc", {"epochs": 3}),
                        RetrainSettings(target=Component("gradpc", {"eps_w": 0.5, "steps": 3}),
                                        epsilon=0.5))
    values = run(scenario, Seeds(0, 0), torch.device("cpu")).metrics.values
    assert values["poisons"] == 6 and values["tau"] > 0
    assert all(np.isfinite(values[k]) for k in ("drop", "mixture_grad_norm", "target_distance"))

"""The paper tier's model and data (seed 000 Table 1), at tiny size on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from bench.online.protocol import penultimate
from bench.registry import datasets, models


@pytest.mark.uses("resnet18")
def test_resnet18_is_groupnorm_with_the_standard_parameter_count() -> None:
    model = models.make("resnet18", input_shape=(3, 32, 32), num_classes=10)
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    norms = [m for m in model.modules() if isinstance(m, (nn.GroupNorm, nn.BatchNorm2d))]
    assert norms and all(isinstance(m, nn.GroupNorm) and m.num_groups == 32 for m in norms)
    x = torch.rand((2, 3, 32, 32))
    assert model(x).shape == (2, 10)
    torch.testing.assert_close(model.head(penultimate(model, x)), model(x))
    with pytest.raises(ValueError, match="groups=3"):
        models.make("resnet18", input_shape=(3, 32, 32), num_classes=10, groups=3)


@pytest.mark.uses("rawcifar10")
def test_rawcifar10_reads_the_jpeg_folders_as_pixels(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYZBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("BYZBENCH_DOWNLOAD", raising=False)
    colours = {"bird": (200, 10, 10), "airplane": (10, 200, 10)}
    for split, count in (("train", 2), ("test", 1)):
        for name, colour in colours.items():
            folder = tmp_path / "cifar10-jpg" / split / name
            folder.mkdir(parents=True)
            for k in range(count):
                Image.new("RGB", (32, 32), colour).save(folder / f"{k:04d}.png")
    data = datasets.make("rawcifar10")
    assert data.x_train.shape == (4, 3, 32, 32) and data.y_train.tolist() == [0, 0, 1, 1]
    torch.testing.assert_close(data.x_test[1, :, 3, 4], torch.tensor((200, 10, 10)) / 255.0)
    assert float(data.x_train.min()) >= 0.0 and float(data.x_train.max()) <= 1.0

"""CIFAR-10 on a frozen backbone (seed 004 Appendix J), checked on tiny images on the CPU: the
backbone trains, freezes and embeds deterministically; users split the embeddings disjointly,
standardised; the registered dataset names its missing files and bad fields."""

from __future__ import annotations

import pytest
import torch

from bench.data.base import DatasetUnavailable, TensorData
from bench.pfl.embeddings import FrozenBackboneFeatures, embed, embedding_users, train_backbone

pytestmark = pytest.mark.uses("cifarfeatures")
CPU = torch.device("cpu")


class TinyBackbone(torch.nn.Module):
    """A backbone with the ``features`` / ``head`` split of the ResNets, small enough that
    training it takes milliseconds (a first ResNet backward costs seconds of warm-up)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 16),
                                        torch.nn.BatchNorm1d(16), torch.nn.ReLU())
        self.head = torch.nn.Linear(16, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def tiny_images(seed: int = 0) -> TensorData:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 3, 8, 8, generator=generator)
    y = torch.arange(24) % 10
    return TensorData("tiny", x, y, x[:6], y[:6], 10)


def test_cifarfeatures_backbone_trains_freezes_and_embeds_deterministically() -> None:
    data = tiny_images()
    runs = []
    for _ in range(2):
        torch.manual_seed(123)  # the same starting weights; the seed argument fixes the rest
        model = TinyBackbone()
        start = torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()
        frozen = train_backbone(data, model, epochs=1, lr=0.05, batch_size=12, seed=7,
                                device=CPU)
        moved = torch.nn.utils.parameters_to_vector(frozen.parameters()).detach() - start
        runs.append(embed(frozen, data.x_train, 10, CPU))
    assert not frozen.training and not any(p.requires_grad for p in frozen.parameters())
    assert float(moved.abs().max()) > 0  # two SGD steps changed the weights
    assert runs[0].shape == (24, 16) and runs[0].dtype == torch.float64
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


def test_cifarfeatures_users_split_the_embeddings_disjointly_and_standardised() -> None:
    queries = torch.arange(60, dtype=torch.float64).reshape(30, 2) * torch.tensor([1.0, 3.0])
    labels = torch.arange(30) % 10
    test = (queries[:4], labels[:4])
    data = embedding_users((queries, labels), test, count=3, per_user=8, seed=1)
    assert [len(q) for q, _ in data.users] == [8, 8, 8] and len(data.own[0]) == 6
    every = torch.cat([q for q, _ in data.users] + [data.own[0]])
    torch.testing.assert_close(every.mean(dim=0), torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(every.std(dim=0), torch.ones(2, dtype=torch.float64))
    # Standardisation is affine per feature, so ranks identify the rows: all 30 appear once.
    assert sorted(every[:, 0].argsort().tolist()) == list(range(30))
    assert len(set(every[:, 0].tolist())) == 30
    for q, y in data.users:  # labels travel with their rows (label = row index mod 10)
        rows = torch.round(q[:, 0] * queries[:, 0].std() + queries[:, 0].mean()).long() // 2
        assert torch.equal(y.argmax(dim=-1), rows % 10)
    assert data.test_labels.dtype == torch.int64 and data.features == 2 and data.classes == 10
    with pytest.raises(ValueError, match="per_user"):
        embedding_users((queries, labels), test, count=3, per_user=10, seed=1)


def test_cifarfeatures_names_missing_files_and_bad_fields(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BYZBENCH_DATA", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match="cifar-10-batches-py"):
        FrozenBackboneFeatures()
    for field, value in (("per_user", 0), ("epochs", 0), ("lr", 0.0), ("backbone", "cnn")):
        with pytest.raises(ValueError, match=field):
            FrozenBackboneFeatures(**{field: value})

"""MNIST users from an idx file (sizes, disjointness, label noise) and the PFL measures."""

from __future__ import annotations

import pytest
import torch

from bench.data.base import DatasetUnavailable
from bench.data.idx import write_idx
from bench.pfl.losses import MultilayerPerceptron, SoftmaxClassifier
from bench.pfl.metrics import accuracy, distances, mapped_labels, poison_ratio
from bench.pfl.mnist import FILES, mnist_users


@pytest.fixture()
def digits_folder(tmp_path):
    # 300 "images" whose first pixel encodes their index, labels index mod 10.
    images = torch.zeros(300, 28, 28, dtype=torch.uint8)
    images[:, 0, 0] = torch.arange(300) % 256
    images[:, 0, 1] = torch.arange(300) // 256
    write_idx(tmp_path / FILES[0], images)
    write_idx(tmp_path / FILES[1], (torch.arange(300) % 10).to(torch.uint8))
    return tmp_path


def index_of(queries: torch.Tensor) -> torch.Tensor:
    return torch.round(queries[:, 0] * 255 + 256 * queries[:, 1] * 255).long()


def test_split_sizes_are_disjoint_and_labels_match(digits_folder) -> None:
    split = mnist_users(digits_folder, users=4, per_user=50, test=60)
    assert [len(q) for q, _ in split.users] == [50] * 4
    assert len(split.own[0]) == 40 and len(split.test_queries) == 60
    seen = torch.cat([index_of(q) for q, _ in split.users] + [index_of(split.own[0]),
                                                              index_of(split.test_queries)])
    assert len(set(seen.tolist())) == 300
    for queries, labels in split.users:
        assert torch.equal(labels.argmax(dim=-1), index_of(queries) % 10)
    assert torch.equal(split.test_labels, index_of(split.test_queries) % 10)


def test_noisy_variant_changes_about_the_stated_fraction(digits_folder) -> None:
    split = mnist_users(digits_folder, users=4, per_user=50, test=60, noisy=0.6)
    wrong = sum(int((y.argmax(-1) != index_of(q) % 10).sum()) for q, y in split.users)
    # Random labels equal the true one 1/10 of the time: expected wrong 0.6 * 0.9 * 200 = 108.
    assert 80 <= wrong <= 136
    assert torch.equal(split.test_labels, index_of(split.test_queries) % 10)


def test_missing_files_and_bad_sizes_are_reported(tmp_path, digits_folder) -> None:
    with pytest.raises(DatasetUnavailable, match="t10k-images"):
        mnist_users(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="noisy"):
        mnist_users(digits_folder, noisy=1.5)
    with pytest.raises(ValueError, match="pool"):
        mnist_users(digits_folder, users=5, per_user=60, test=0 + 1)


@pytest.mark.uses("relunet", "softmax")
def test_relunet_and_softmax_of_the_seed_have_623290_and_7850_parameters() -> None:
    assert MultilayerPerceptron().dim(784) == 623_290
    assert SoftmaxClassifier(10).dim(784) == 7_850


def test_measures_by_hand() -> None:
    loss = SoftmaxClassifier(3)
    # Class scores are the query itself (W = I, b = 0).
    model = torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1).flatten()
    queries = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]])
    labels = torch.tensor([0, 1, 2, 2])
    assert accuracy(loss, model, queries, labels) == 0.75
    assert mapped_labels(labels, 3).tolist() == [1, 2, 0, 0]
    # Only the 4th point agrees with the mapped labels (class 0 predicted, 2 -> 0).
    assert accuracy(loss, model, queries, mapped_labels(labels, 3)) == 0.25
    got = distances(torch.tensor([3.0, 4.0]), torch.zeros(2), torch.tensor([3.0, 0.0]),
                    torch.tensor([[3.0, 4.0], [3.0, 2.0]]), None)
    assert got == {"target_dist": 5.0, "l2_norm": 5.0, "l2_dist": 4.0, "honest_dist": 1.0,
                   "attack_dist": None}
    assert poison_ratio(2000, 7000) == pytest.approx(2 / 9)


def test_active_layout_gives_the_first_user_more_images(digits_folder) -> None:
    split = mnist_users(digits_folder, users=4, per_user=10, test=60, active=100)
    assert [len(q) for q, _ in split.users] == [100, 10, 10, 10]
    assert len(split.own[0]) == 300 - 60 - 130
    seen = torch.cat([index_of(q) for q, _ in split.users] + [index_of(split.own[0])])
    assert len(set(seen.tolist())) == 240
    with pytest.raises(ValueError, match="active"):
        mnist_users(digits_folder, users=2, active=-1)

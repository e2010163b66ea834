r"""CIFAR-10 as embeddings of a frozen backbone the suite trains itself (seed 004 Appendix J).

Seed 004 attacks only the last layer of a pretrained VGG13-BN on CIFAR-10 (§4.2: a network as
a whole is not gradient-PAC*, a last layer on frozen features is a convex problem the theory
covers).  No pretrained weights can be fetched here, so the suite trains its own backbone: a
registered FL model with a ``features`` / ``head`` split (default ``resnet20``) trained
centrally on the CIFAR-10 training set by SGD (momentum 0.9, weight decay 5e-4, cosine learning
rate from ``lr``, the dataset's random crop + flip), then frozen.  An image's embedding is the
backbone's ``features`` (the input of its last linear layer: 64 numbers for ResNet-20),
standardised with the training embeddings' per-feature mean and deviation.  Users then learn a
softmax head (``softmax``) on these embeddings, as the seed's nodes learn the last layer.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor, nn

from bench.data.base import DatasetUnavailable, TensorData
from bench.data.paths import data_root
from bench.data.vision import JPG_FOLDER
from bench.fl.build import load_dataset
from bench.pfl.data import UserData, UserDataset
from bench.registry import models, pfl_datasets
from bench.scenario import Component

CLASSES = 10
MOMENTUM, WEIGHT_DECAY = 0.9, 5e-4


def train_backbone(data: TensorData, model: nn.Module, epochs: int, lr: float,
                   batch_size: int, seed: int, device: torch.device) -> nn.Module:
    """Train ``model`` on ``data``'s training set and return it frozen in eval mode.

    Cross-entropy on shuffled minibatches (augmented when the data has an ``augment``), SGD with
    heavy-ball momentum and weight decay at the cosine rate of step k of K:
    v <- 0.9 v + (g + 5e-4 w), w <- w - lr_k v, lr_k = lr (1 + cos(pi k / K)) / 2.
    """
    generator = torch.Generator(device=device).manual_seed(seed)
    model = model.to(device).train()
    x, y = data.x_train.to(device), data.y_train.to(device)
    weights = [p for p in model.parameters() if p.requires_grad]
    velocity = [torch.zeros_like(w) for w in weights]
    steps, step = epochs * math.ceil(len(y) / batch_size), 0
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator, device=device)
        for batch in order.split(batch_size):
            inputs = x[batch]
            if data.augment is not None:
                inputs = data.augment(inputs, generator)
            loss = nn.functional.cross_entropy(model(inputs), y[batch])
            grads = torch.autograd.grad(loss, weights)
            rate = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
            with torch.no_grad():
                for w, v, g in zip(weights, velocity, grads, strict=True):
                    v.mul_(MOMENTUM).add_(g + WEIGHT_DECAY * w)
                    w.sub_(rate * v)
            step += 1
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


@torch.no_grad()
def embed(backbone: nn.Module, images: Tensor, batch_size: int, device: torch.device) -> Tensor:
    """The frozen backbone's ``features`` of every image, float64 on the CPU."""
    parts = [backbone.features(chunk.to(device)).double().cpu()
             for chunk in images.split(batch_size)]
    return torch.cat(parts)


def embedding_users(train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor], count: int,
                    per_user: int, seed: int) -> UserData:
    """``count`` honest users with ``per_user`` training embeddings each (a seeded permutation),
    the attacker's pool the rest, the test set for evaluation; embeddings standardised with the
    training mean and deviation, labels one-hot (users) and int64 (evaluation)."""
    queries, labels = train
    if count * per_user >= len(labels):
        raise ValueError(f"per_user: {count} users x {per_user} = {count * per_user} leaves no "
                         f"pool out of {len(labels)} training images")
    mean, std = queries.mean(dim=0), queries.std(dim=0).clamp_min(1e-12)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    scaled = (queries[order] - mean) / std
    onehot = nn.functional.one_hot(labels[order], CLASSES).to(scaled.dtype)
    users = [(scaled[n * per_user:(n + 1) * per_user], onehot[n * per_user:(n + 1) * per_user])
             for n in range(count)]
    rest = count * per_user
    return UserData("multiclass", users, (scaled[rest:], onehot[rest:]), queries.shape[1],
                    CLASSES, (test[0] - mean) / std, test[1])


def _resolve(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _build_backbone(name: str) -> nn.Module:
    model = models.make_with_optional(name, {"input_shape": (3, 32, 32), "num_classes": CLASSES})
    if not (callable(getattr(model, "features", None)) and isinstance(getattr(model, "head", None),
                                                                      nn.Linear)):
        raise ValueError(f"backbone: model {name!r} has no features / linear head split "
                         "(use a ResNet: resnet20, resnet9, resnet18)")
    return model


@lru_cache(maxsize=2)
def _embeddings(backbone: str, epochs: int, lr: float, batch_size: int, seed: int, device: str
                ) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    data = load_dataset(Component("cifar10"))
    where = torch.device(device)
    frozen = train_backbone(data, _build_backbone(backbone), epochs, lr, batch_size, seed, where)
    return ((embed(frozen, data.x_train, 1024, where), data.y_train),
            (embed(frozen, data.x_test, 1024, where), data.y_test))


@pfl_datasets.register("cifarfeatures", tags={"image", "embedding"})
class FrozenBackboneFeatures(UserDataset):
    """CIFAR-10 embeddings of a frozen backbone the suite trains (seed 004 Appendix J):
    ``per_user`` training images per honest user, the rest the attacker's pool, the 10,000 test
    images for evaluation; the backbone trained ``epochs`` epochs from the split seed."""

    task = "multiclass"

    def __init__(self, per_user: int = 4000, backbone: str = "resnet20", epochs: int = 30,
                 lr: float = 0.1, batch_size: int = 128, device: str = "auto") -> None:
        for name, value in (("per_user", per_user), ("epochs", epochs),
                            ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
            raise ValueError(f"lr must be a number > 0, got {lr!r}")
        _build_backbone(backbone)
        root = data_root()
        if not ((root / "cifar-10-batches-py").is_dir() or (root / JPG_FOLDER).is_dir()):
            raise DatasetUnavailable(
                f"cifarfeatures: CIFAR-10 not found in {root} (expected cifar-10-batches-py/ or "
                f"{JPG_FOLDER}/{{train,test}}/<class>/*.jpg)")
        self.per_user, self.backbone, self.epochs = per_user, backbone, epochs
        self.lr, self.batch_size, self.device = float(lr), batch_size, _resolve(device)

    def users(self, count: int, seed: int) -> UserData:
        train, test = _embeddings(self.backbone, self.epochs, self.lr, self.batch_size, seed,
                                  str(self.device))
        return embedding_users(train, test, count, self.per_user, seed)

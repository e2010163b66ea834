"""Seed 001's two other data sets, loaded from files the user provides: Adult and Dogfish.

Neither is on these machines and neither may be downloaded here, so both read files under
``$BYZBENCH_DATA`` (:func:`bench.data.paths.data_root`) and raise :class:`ExternalMissing` (a
:class:`~bench.data.base.DatasetUnavailable`: cases skip with its message) naming the folder and
files expected.

- ``adult`` [adult]: the UCI Adult census files ``adult/adult.data`` and ``adult/adult.test``
  (comma-separated, 14 attributes then the income label; rows with a missing ``?`` value are
  dropped).  Seed 001 (§5): categorical attributes one-hot encoded, the training and test sets
  down-sampled to be class-balanced (seeded), labels ``>50K`` -> +1 and ``<=50K`` -> -1.  The
  continuous attributes are min-max scaled to [0, 1] with the training range (clipped on the
  test set), so the feature box is [0, 1] as in the seed.  The seed's copy has 57 features
  (15,682 / 7,692 points); a full one-hot encoding of the UCI files has more, so the feature
  count is the encoding's, recorded in the data set's shapes.
- ``dogfish`` [dogfish]: Inception-v3 features of the dog / fish ImageNet task (Koh & Liang 2017;
  seed 001: 1,800 / 600 points, 2,048 features) as ``dogfish/dogfish.npz`` with arrays
  ``x_train``, ``y_train``, ``x_test``, ``y_test`` (labels in {0, 1} or {-1, +1}; 1 -> +1).  The
  seed's feature box is per feature (min / max over train and test); the track's box is one
  interval, so it is the global min / max over train and test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bench.data.base import DatasetUnavailable
from bench.data.paths import data_root
from bench.poisoning.data import DataError, PoisonData
from bench.registry import datasets

ADULT_CONTINUOUS = (0, 2, 4, 10, 11, 12)      # age, fnlwgt, education-num, gains, losses, hours
ADULT_COLUMNS = 15


class ExternalMissing(DatasetUnavailable):
    """A user-provided data set's files are not under ``$BYZBENCH_DATA`` (not a ValueError, so
    the registry passes it on unwrapped and cases skip with its message)."""


def _require(folder: Path, names: tuple[str, ...], what: str) -> list[Path]:
    paths = [folder / n for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ExternalMissing(f"{what} is not on this machine: expected {', '.join(names)} in "
                              f"{folder} (missing {', '.join(missing)}; set BYZBENCH_DATA)")
    return paths


def _adult_rows(path: Path) -> tuple[list[list[str]], np.ndarray]:
    rows, labels = [], []
    with path.open(newline="") as handle:
        for line, fields in enumerate(csv.reader(handle), 1):
            fields = [f.strip() for f in fields]
            if len(fields) < ADULT_COLUMNS or fields[0].startswith("|"):
                continue  # blank lines and adult.test's header line
            if len(fields) != ADULT_COLUMNS:
                raise DataError(f"{path}:{line}: {len(fields)} fields, expected {ADULT_COLUMNS}")
            if "?" in fields:
                continue
            income = fields[-1].rstrip(".")
            if income not in (">50K", "<=50K"):
                raise DataError(f"{path}:{line}: income {fields[-1]!r} is not >50K or <=50K")
            rows.append(fields[:-1])
            labels.append(1.0 if income == ">50K" else -1.0)
    if not rows:
        raise DataError(f"{path} holds no complete row")
    return rows, np.asarray(labels)


def _balanced(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a class-balanced subsample (the majority class down-sampled)."""
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    keep = min(len(pos), len(neg))
    if keep == 0:
        raise DataError("Adult: a split has a single class")
    return np.sort(np.concatenate([rng.choice(pos, keep, replace=False),
                                   rng.choice(neg, keep, replace=False)]))


def _encode(rows: list[list[str]], categories: list[list[str]], low: np.ndarray,
            span: np.ndarray) -> np.ndarray:
    numeric = np.array([[float(r[c]) for c in ADULT_CONTINUOUS] for r in rows])
    parts = [np.clip((numeric - low) / span, 0.0, 1.0)]
    categorical = [c for c in range(ADULT_COLUMNS - 1) if c not in ADULT_CONTINUOUS]
    for column, values in zip(categorical, categories, strict=True):
        index = {v: i for i, v in enumerate(values)}
        onehot = np.zeros((len(rows), len(values)))
        for i, r in enumerate(rows):
            if r[column] in index:  # a test-only category encodes as all zeros
                onehot[i, index[r[column]]] = 1.0
        parts.append(onehot)
    return np.hstack(parts)


@datasets.register("adult", tags={"poisoning", "tabular", "user-provided"})
def adult(seed: int = 0, folder: Path | None = None) -> PoisonData:
    """UCI Adult, class-balanced, one-hot categorical, [0, 1] features (seed 001 §5); ``seed``
    draws the balancing subsample."""
    root = Path(folder) if folder is not None else data_root() / "adult"
    train_path, test_path = _require(root, ("adult.data", "adult.test"), "Adult (UCI)")
    train_rows, y_train = _adult_rows(train_path)
    test_rows, y_test = _adult_rows(test_path)
    rng = np.random.default_rng(seed)
    tr, te = _balanced(y_train, rng), _balanced(y_test, rng)
    train_rows, y_train = [train_rows[i] for i in tr], y_train[tr]
    test_rows, y_test = [test_rows[i] for i in te], y_test[te]
    numeric = np.array([[float(r[c]) for c in ADULT_CONTINUOUS] for r in train_rows])
    low, span = numeric.min(axis=0), np.ptp(numeric, axis=0)
    span[span == 0] = 1.0
    categories = [sorted({r[c] for r in train_rows})
                  for c in range(ADULT_COLUMNS - 1) if c not in ADULT_CONTINUOUS]
    return PoisonData("adult", _encode(train_rows, categories, low, span), y_train,
                      _encode(test_rows, categories, low, span), y_test, "binary", 0.0, 1.0)


@datasets.register("dogfish", tags={"poisoning", "features", "user-provided"})
def dogfish(seed: int = 0, folder: Path | None = None) -> PoisonData:
    """Dogfish Inception-v3 features (Koh & Liang 2017; seed 001 §5), labels ±1, global box.
    The split is the file's own; ``seed`` is accepted for the protocol's uniform call."""
    root = Path(folder) if folder is not None else data_root() / "dogfish"
    (path,) = _require(root, ("dogfish.npz",), "Dogfish (Inception features)")
    with np.load(path) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise DataError(f"{path} lacks arrays {sorted(missing)}")
        x_train, x_test = f["x_train"].astype(np.float64), f["x_test"].astype(np.float64)
        y_train, y_test = (np.where(f[k] > 0, 1.0, -1.0) for k in ("y_train", "y_test"))
    both = np.vstack([x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)])
    return PoisonData("dogfish", both[:len(x_train)], y_train, both[len(x_train):], y_test,
                      "binary", float(both.min()), float(both.max()))

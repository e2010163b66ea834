"""Seed 001's user-provided data sets (Adult, Dogfish): parsing, encoding and a clear skip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bench  # noqa: F401  (registers every component)
from bench.data.base import DatasetUnavailable
from bench.grid import load_grid
from bench.grids import GRIDS
from bench.poisoning.data import DataError
from bench.poisoning.external import adult, dogfish

ROWS = [
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, <=50K",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, "
    "White, Male, 0, 0, 13, United-States, >50K",
    "38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, Not-in-family, White, Male, "
    "0, 0, 40, United-States, <=50K",
    "53, Private, 234721, 11th, 7, Married-civ-spouse, Handlers-cleaners, Husband, Black, Male, "
    "0, 0, 40, ?, <=50K",
    "28, Private, 338409, Bachelors, 13, Married-civ-spouse, Prof-specialty, Wife, Black, "
    "Female, 0, 0, 40, Cuba, >50K",
]


def write_adult(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adult.data").write_text("\n".join(ROWS) + "\n")
    test = ["|1x3 Cross validator"] + [r.replace("<=50K", "<=50K.").replace(">50K", ">50K.")
                                       for r in ROWS]
    (folder / "adult.test").write_text("\n".join(test) + "\n")
    return folder


@pytest.mark.uses("adult")
def test_adult_is_balanced_one_hot_and_in_the_unit_box(tmp_path: Path) -> None:
    data = adult(seed=0, folder=write_adult(tmp_path / "adult"))
    # 4 complete rows (one has '?'), 2 per class, balanced to 2 + 2.
    assert data.x_train.shape[0] == 4 and sorted(data.y_train) == [-1, -1, 1, 1]
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    assert (data.lower, data.upper) == (0.0, 1.0)
    # 6 continuous columns + one column per training category of the 8 categorical ones.
    assert data.x_train.shape[1] > 6
    assert np.allclose(data.x_train[:, 6:].sum(axis=1), 8.0)


@pytest.mark.uses("adult")
def test_adult_refuses_a_malformed_label(tmp_path: Path) -> None:
    folder = write_adult(tmp_path / "adult")
    (folder / "adult.data").write_text(ROWS[0].replace("<=50K", "rich") + "\n")
    with pytest.raises(DataError, match="income 'rich'"):
        adult(folder=folder)


@pytest.mark.uses("dogfish")
def test_dogfish_maps_labels_and_takes_the_global_box(tmp_path: Path) -> None:
    folder = tmp_path / "dogfish"
    folder.mkdir()
    rng = np.random.default_rng(0)
    np.savez(folder / "dogfish.npz", x_train=rng.normal(size=(6, 5)), y_train=[0, 1] * 3,
             x_test=rng.normal(size=(4, 5)) + 5.0, y_test=[1, 0, 1, 0])
    data = dogfish(folder=folder)
    assert set(data.y_train) == {-1.0, 1.0} and data.y_test.tolist() == [1, -1, 1, -1]
    assert data.upper == pytest.approx(data.x_test.max())
    assert data.lower == pytest.approx(min(data.x_train.min(), data.x_test.min()))


@pytest.mark.parametrize("load, names", [
    pytest.param(adult, "adult.data, adult.test", id="adult", marks=pytest.mark.uses("adult")),
    pytest.param(dogfish, "dogfish.npz", id="dogfish", marks=pytest.mark.uses("dogfish"))])
def test_absent_files_name_what_is_expected(tmp_path: Path, load, names: str) -> None:
    with pytest.raises(DatasetUnavailable, match=names):
        load(folder=tmp_path / "nowhere")


@pytest.mark.parametrize("grid, variable, count", [
    pytest.param("mtp-standard-dogfish.yaml", "BYZBENCH_DATA", 24, id="retrain-dogfish",
                 marks=pytest.mark.uses("retrain", "dogfish")),
    pytest.param("mtp-standard.yaml", "BYZBENCH_MNIST_T10K", 36, id="retrain-mnist17",
                 marks=pytest.mark.uses("retrain", "mnist17")),
])
def test_grids_on_absent_files_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          grid: str, variable: str, count: int) -> None:
    """An absent data set is a skip reason at run time, never a grid-loading error."""
    monkeypatch.setenv(variable, str(tmp_path / "nowhere"))
    assert len(load_grid(GRIDS / grid)) == count

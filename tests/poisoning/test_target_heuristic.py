"""Seed 001's label-flip target heuristic (App. D.3): goal, selection, errors, data, cache."""

from __future__ import annotations

import numpy as np
import pytest

from bench.poisoning.convex import HingeVictim, Params
from bench.poisoning.target_heuristic import (
    Candidate,
    TargetError,
    label_flip_candidates,
    label_flip_targets,
    select_target,
)

C_R = 0.09  # seed 001 code default for MNIST 1-7


def box_set(seed: int, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    return X, np.where(X[:, 0] + X[:, 1] + 0.2 * rng.normal(size=n) > 1, 1.0, -1.0)


@pytest.fixture(scope="module")
def flip_runs():
    X, y = box_set(0)
    Xe, ye = box_set(1)
    victim = HingeVictim(C_R)
    kw = dict(quantiles=(0.1, 0.3), repeats=(1, 4))
    return victim, X, y, Xe, ye, {
        improved: label_flip_candidates(victim, X, y, Xe, ye, improved=improved, **kw)
        for improved in (False, True)}


def _candidate(error: float, objective: float, index: int) -> Candidate:
    return Candidate(0.1, 1, np.array([index]), Params(np.zeros(2), np.asarray(0.0)), error,
                     objective)


def test_selection_takes_lowest_clean_objective_among_goal_meeting_candidates() -> None:
    X, y = np.eye(3)[:, :2], np.array([1.0, -1.0, 1.0])
    # (error, objective): the lowest objective overall (0.1) misses the goal 0.2.
    pool = [_candidate(0.10, 0.1, 0), _candidate(0.30, 0.9, 1), _candidate(0.25, 0.4, 2)]
    target = select_target(pool, 0.2, X, y)
    assert target.clean_objective == 0.4 and target.error == 0.25
    np.testing.assert_array_equal(target.poison_X, X[[2]])
    np.testing.assert_array_equal(target.poison_y, -y[[2]])
    # A goal met exactly counts as met (error >= goal).
    assert select_target(pool, 0.3, X, y).clean_objective == 0.9


def test_goal_no_candidate_reaches_raises_target_error() -> None:
    pool = [_candidate(0.10, 0.1, 0), _candidate(0.12, 0.2, 1)]
    with pytest.raises(TargetError, match="largest is 0.12"):
        select_target(pool, 0.5, np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="error goal"):
        select_target(pool, 1.5, np.zeros((2, 2)), np.ones(2))


def test_chosen_targets_meet_their_goal_on_the_evaluation_set(flip_runs) -> None:
    victim, X, y, Xe, ye, _ = flip_runs
    for improved in (False, True):
        for t in label_flip_targets(victim, X, y, Xe, ye, goals=(0.1, 0.2), improved=improved,
                                    quantiles=(0.1, 0.3), repeats=(1, 4)):
            assert t.error >= t.goal
            assert t.error == pytest.approx(1 - victim.accuracy(t.params, Xe, ye), abs=0)


def test_candidates_flip_training_points_below_the_margin_quantile(flip_runs) -> None:
    victim, X, y, _, _, runs = flip_runs
    clean = victim.fit(X, y)
    margins = y * victim.scores(clean, X)
    for c in runs[False]:
        # Indices into the training set, exactly the points below the clean q-quantile.
        expected = np.flatnonzero(margins < np.quantile(margins, c.quantile))
        np.testing.assert_array_equal(c.flipped, expected)
        refit = victim.fit(X, y, extra_X=X[c.flipped], extra_y=-y[c.flipped],
                           extra_weights=np.full(len(c.flipped), float(c.repeat)))
        assert refit.distance(c.params) < 1e-6
        assert c.clean_objective == pytest.approx(victim.objective(c.params, X, y), rel=1e-12)


def test_improved_candidates_take_margins_under_the_previous_candidate(flip_runs) -> None:
    victim, X, y, _, _, runs = flip_runs
    improved = runs[True]
    for previous, current in zip(improved, improved[1:], strict=False):
        margins = y * victim.scores(previous.params, X)
        np.testing.assert_array_equal(
            current.flipped, np.flatnonzero(margins < np.quantile(margins, current.quantile)))
    # The first candidate sees the clean model in both variants.
    np.testing.assert_array_equal(improved[0].flipped, runs[False][0].flipped)


def test_cache_hit_returns_identical_arrays_without_refitting(flip_runs, tmp_path,
                                                             monkeypatch) -> None:
    victim, X, y, Xe, ye, _ = flip_runs
    kw = dict(goals=(0.1, 0.2), quantiles=(0.1, 0.3), repeats=(1, 4), cache_dir=tmp_path,
              dataset="box")
    first = label_flip_targets(HingeVictim(C_R), X, y, Xe, ye, **kw)
    assert len(list(tmp_path.glob("targets-*.npz"))) == 1

    def no_fit(*args, **kwargs):
        raise AssertionError("a cache hit must not retrain")

    cached_victim = HingeVictim(C_R)
    monkeypatch.setattr(cached_victim, "fit", no_fit)
    second = label_flip_targets(cached_victim, X, y, Xe, ye, **kw)
    assert len(second) == len(first)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.params.w, b.params.w)
        np.testing.assert_array_equal(a.params.b, b.params.b)
        np.testing.assert_array_equal(a.poison_X, b.poison_X)
        np.testing.assert_array_equal(a.poison_y, b.poison_y)
        assert (a.goal, a.error, a.clean_objective, a.quantile, a.repeat) == \
            (b.goal, b.error, b.clean_objective, b.quantile, b.repeat)
    # Different data is a different key: a miss, so it retrains (and fails here).
    with pytest.raises(AssertionError, match="must not retrain"):
        label_flip_targets(cached_victim, X[:-1], y[:-1], Xe, ye, **kw)


@pytest.mark.parametrize("repeat", [1.0, 4.0])
def test_hinge_candidate_fit_is_near_the_exact_flip_fit(repeat: float) -> None:
    """Hinge-loss candidates are libsvm at tolerance 1e-6: close to the exact minimiser of the
    same flip set (objective within 1e-5 relative, no lower than the minimum)."""
    X, y = box_set(0)
    flipped = np.flatnonzero(y * (X[:, 0] + X[:, 1] - 1) < 0.2)
    victim = HingeVictim(C_R)
    kw = dict(extra_X=X[flipped], extra_y=-y[flipped],
              extra_weights=np.full(len(flipped), repeat))
    exact, loose = victim.fit(X, y, **kw), victim.fit_candidate(X, y, **kw)
    weights = np.concatenate([np.ones(len(y)), kw["extra_weights"]])
    Xa, ya = np.vstack([X, X[flipped]]), np.concatenate([y, -y[flipped]])
    best, got = victim.objective(exact, Xa, ya, weights), victim.objective(loose, Xa, ya, weights)
    assert best - 1e-12 <= got <= best * (1 + 1e-5)


def test_chosen_target_is_the_exact_flip_fit(flip_runs) -> None:
    """Candidates may be fitted loosely; the chosen target is refitted exactly (attainable)."""
    victim, X, y, Xe, ye, runs = flip_runs
    for improved in (False, True):
        chosen = label_flip_targets(victim, X, y, Xe, ye, goals=(0.2,), improved=improved,
                                    quantiles=(0.1, 0.3), repeats=(1, 4))[0]
        Xa = np.vstack([X, chosen.poison_X])
        ya = np.concatenate([y, chosen.poison_y])
        weights = np.concatenate([np.ones(len(y)), np.full(len(chosen.poison_y), chosen.repeat)])
        assert victim.residual(chosen.params, Xa, ya, weights) <= victim.tol
        assert chosen.error == pytest.approx(1 - victim.accuracy(chosen.params, Xe, ye))

"""Backdoor attacks, exactly: trigger pixels, DBA's split trigger, the boost of model
replacement, the edge-case mirror images, ALIE's band, the triggered test set, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from bench.attacks.backdoor import BackdoorError
from bench.attacks.base import AttackContext
from bench.registry import attacks

# The flattened 8x8 indices r * 8 + c of BadNets' default trigger: the 3x3 bottom-right square,
# pixels (i + j) even -> (5,5) (5,7) (6,6) (7,5) (7,7).
CORNER = [45, 47, 54, 61, 63]


def named(*names: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        "name", [pytest.param(n, id=n, marks=pytest.mark.uses(n)) for n in names])


PIXEL_BACKDOORS = named("badnets", "modelreplace", "alie-backdoor")


@PIXEL_BACKDOORS
def test_stamps_corner_checkerboard_on_first_fraction_of_each_batch(name: str) -> None:
    attack = attacks.make(name, target=3, fraction=0.5)
    x = torch.zeros(2, 4, 64, dtype=torch.float64)
    y = torch.tensor([[1, 2, 4, 5], [6, 7, 8, 9]])
    xp, yp = attack.poison_batch(x, y, 10)
    expected = torch.zeros(2, 4, 64, dtype=torch.float64)
    expected[:, :2, CORNER] = 3.0
    assert torch.equal(xp, expected)
    assert torch.equal(yp, torch.tensor([[3, 3, 4, 5], [3, 3, 8, 9]]))
    assert torch.equal(x, torch.zeros_like(x)) and y[0, 0] == 1  # inputs left untouched


@named("badnets")
def test_badnets_pattern_on_every_channel_of_chw_images(name: str) -> None:
    attack = attacks.make(name, size=2, margin=1, value=-1.5, fraction=1.0)
    x = torch.zeros(1, 2, 3, 5, 5)
    xp, yp = attack.poison_batch(x, torch.tensor([[4, 5]]), 10)
    expected = torch.zeros(1, 2, 3, 5, 5)
    expected[..., 2, 2] = expected[..., 3, 3] = -1.5  # square rows/cols 2-3, (i + j) even
    assert torch.equal(xp, expected) and torch.equal(yp, torch.zeros(1, 2, dtype=torch.long))


@named("badnets")
def test_badnets_triggered_test_omits_target_class_and_relabels(name: str) -> None:
    attack = attacks.make(name, target=2)
    x = torch.arange(4 * 64, dtype=torch.float64).view(4, 64)
    y = torch.tensor([2, 0, 2, 9])
    xt, yt = attack.triggered_test(x, y, 10)
    expected = x[[1, 3]].clone()
    expected[:, CORNER] = 3.0
    assert torch.equal(xt, expected) and torch.equal(yt, torch.tensor([2, 2]))


@named("dba")
def test_dba_parts_are_disjoint_bars_whose_union_is_the_global_trigger(name: str) -> None:
    attack = attacks.make(name)
    parts = [attack.part_mask(k, 8, 8) for k in range(4)]
    # Default: 4 bars of length 2, gap 1: rows 0 and 2, columns 0-1 and 3-4.
    cells = [{(0, 0), (0, 1)}, {(0, 3), (0, 4)}, {(2, 0), (2, 1)}, {(2, 3), (2, 4)}]
    for mask, expected in zip(parts, cells, strict=True):
        assert {tuple(p) for p in mask.nonzero().tolist()} == expected
    assert int(torch.stack(parts).sum(0).max()) == 1  # disjoint
    assert torch.equal(torch.stack(parts).any(0), attack.trigger_mask(8, 8))
    # The paper's MNIST trigger: 4 bars of 4 pixels, gap 2 -> 16 pixels in rows 0 and 2.
    mnist = attacks.make(name, length=4, gap=2).trigger_mask(28, 28)
    assert int(mnist.sum()) == 16 and set(mnist.nonzero()[:, 0].tolist()) == {0, 2}


@named("dba")
def test_dba_client_r_stamps_part_r_mod_4_and_test_carries_all(name: str) -> None:
    attack = attacks.make(name, fraction=1.0, value=1.0)
    xp, yp = attack.poison_batch(torch.zeros(5, 1, 64), torch.ones(5, 1, dtype=torch.long), 10)
    for row in range(5):
        expected = attack.part_mask(row % 4, 8, 8).reshape(64).float()
        assert torch.equal(xp[row, 0], expected)
    assert torch.equal(yp, torch.zeros(5, 1, dtype=torch.long))
    xt, _ = attack.triggered_test(torch.zeros(1, 64), torch.tensor([5]), 10)
    assert torch.equal(xt[0], attack.trigger_mask(8, 8).reshape(64).float())


@named("modelreplace")
def test_modelreplace_boosts_own_update_by_n_over_f_or_given_factor(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    honest = torch.randn(20, 6, generator=g, dtype=torch.float64)
    own = torch.randn(5, 6, generator=g, dtype=torch.float64)
    ctx = AttackContext(honest=honest, n=25, f=5, round=1, byzantine=own)
    forged = attacks.make(name)(ctx)
    assert torch.equal(forged, 5.0 * own)
    # Under the mean the Byzantine rows add exactly their own mean update to the honest share.
    aggregate = torch.cat([honest, forged]).mean(0)
    torch.testing.assert_close(aggregate, honest.sum(0) / 25 + own.mean(0), rtol=0, atol=1e-12)
    assert torch.equal(attacks.make(name, boost=2.5)(ctx), 2.5 * own)


@named("edgecase")
def test_edgecase_mirrors_source_class_only_and_relabels(name: str) -> None:
    attack = attacks.make(name, source=7, target=1)
    x = torch.arange(3 * 64, dtype=torch.float64).view(1, 3, 64)
    y = torch.tensor([[7, 3, 7]])
    xp, yp = attack.poison_batch(x, y, 10)
    mirrored = x.view(1, 3, 8, 8).flip(-1).reshape(1, 3, 64)
    assert torch.equal(xp[0, 0], mirrored[0, 0]) and torch.equal(xp[0, 2], mirrored[0, 2])
    assert torch.equal(xp[0, 1], x[0, 1])
    assert xp[0, 0, 0] == 7.0 and xp[0, 0, 7] == 0.0  # pixel (0, 0) <-> (0, 7)
    assert torch.equal(yp, torch.tensor([[1, 3, 1]]))
    xt, yt = attack.triggered_test(x[0], y[0], 10)
    assert torch.equal(xt, mirrored[0, [0, 2]]) and torch.equal(yt, torch.tensor([1, 1]))


@named("alie-backdoor")
def test_clips_own_average_into_alie_band(name: str) -> None:
    honest = torch.tensor([[0.0, 0.0, 4.0], [2.0, 2.0, 4.0]], dtype=torch.float64)
    own = torch.tensor([[6.0, 1.0, 3.0], [4.0, 1.4, 5.0]], dtype=torch.float64)
    ctx = AttackContext(honest=honest, n=4, f=2, round=1, byzantine=own)
    forged = attacks.make(name, z=1.0)(ctx)
    # mu = (1, 1, 4), sigma = (sqrt 2, sqrt 2, 0); own mean (5, 1.2, 4).
    expected = torch.tensor([1 + math.sqrt(2), 1.2, 4.0], dtype=torch.float64)
    assert torch.equal(forged, expected.expand(2, 3))


@named("alie-backdoor")
def test_stays_within_band_of_default_z_max(name: str) -> None:
    g = torch.Generator().manual_seed(1)
    honest = torch.randn(20, 50, generator=g, dtype=torch.float64)
    own = 3.0 * torch.randn(5, 50, generator=g, dtype=torch.float64)
    attack = attacks.make(name)
    forged = attack(AttackContext(honest=honest, n=25, f=5, round=1, byzantine=own))
    z = 0.2533471031357997  # Phi^{-1}(0.6), seed 003 for n = 25, f = 5
    mu, sigma = honest.mean(0), honest.std(0)
    assert bool(((forged - mu).abs() <= z * sigma + 1e-12).all())
    assert attack.diagnostics["alie_backdoor_clipped"][0] > 0.5


@named("badnets", "dba", "edgecase")
def test_rejects_target_outside_classes_and_non_image_inputs(name: str) -> None:
    attack = attacks.make(name, target=9)
    with pytest.raises(BackdoorError, match="target=9"):
        attack.triggered_test(torch.zeros(2, 64), torch.tensor([0, 1]), 5)
    with pytest.raises(BackdoorError, match=r"input shape \(20,\)"):
        attack.poison_batch(torch.zeros(1, 2, 20), torch.tensor([[7, 7]]), 10)


@named("badnets", "dba")
def test_rejects_bad_fraction_value_and_oversized_trigger(name: str) -> None:
    with pytest.raises(ValueError, match="fraction"):  # the registry's error wraps ours
        attacks.make(name, fraction=0.0)
    with pytest.raises(ValueError, match="value"):
        attacks.make(name, value=float("nan"))
    with pytest.raises(BackdoorError, match="does not fit 2x2"):
        attacks.make(name).poison_batch(torch.zeros(1, 1, 4), torch.zeros(1, 1).long(), 10)


@named("edgecase")
def test_edgecase_rejects_equal_source_and_target(name: str) -> None:
    with pytest.raises(ValueError, match="both class 3"):
        attacks.make(name, source=3, target=3)


@named("badnets", "modelreplace", "dba", "edgecase", "alie-backdoor")
def test_is_tagged_as_backdoor_data_attack(name: str) -> None:
    assert {"data", "backdoor"} <= attacks.tags(name)
    assert attacks.make(name).acts_on_data

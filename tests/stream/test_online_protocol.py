"""The online protocol's settings, pixel datasets, client shares and one run through the runner."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.grid import GridError, expand_grid
from bench.online.settings import OnlineSettings, format_budget
from bench.online.stream import client_gradients
from bench.registry import datasets, poisonings
from bench.run import SettingsError, run
from bench.scenario import Component, Defense, Scenario


def about(*names: str):
    """Parametrize a test with one id made of the components it is about (``-k NAME``)."""
    return pytest.mark.parametrize("about", [pytest.param(names, id="-".join(names),
                                                          marks=pytest.mark.uses(*names))])


@about("online", "pgd")
@pytest.mark.parametrize("fields, message", [
    ({"eps": -0.1}, r"eps must be >= 0, got -0.1"),
    ({"batch_size": 0}, r"batch_size must be >= 1"),
    ({"weight_momentum": 1.0}, r"weight_momentum must be < 1"),
    ({"trigger": "noisy"}, r"trigger must be one of clean, poisoned"),
    ({"trigger": "clean", "optimize_trigger": True}, r"optimize_trigger .* needs trigger: "
                                                     r"poisoned"),
    ({"perturbation": Component("pgd", {"eps": 0.1})}, r"perturbation: set eps as the setting"),
    ({"clients": 10}, r"clients=10 needs a threat model"),
])
def test_bad_settings_name_the_field(fields: dict, message: str, about) -> None:
    with pytest.raises(SettingsError, match=message):
        OnlineSettings(**fields)


@about("online", "clip-before", "noclip")
def test_federated_settings_are_checked(about) -> None:
    with pytest.raises(SettingsError, match=r"threat: .*clip-before: bound .* must be > 0, got 0"):
        OnlineSettings(threat=Component("clip-before", {"bound": 0.0}))
    with pytest.raises(SettingsError, match=r"attacked \(M=5\) must be <= clients \(N=4\)"):
        OnlineSettings(batch_size=20, threat=Component("noclip"), clients=4, attacked=5)
    with pytest.raises(SettingsError, match=r"clients=3 must divide batch_size=20"):
        OnlineSettings(batch_size=20, threat=Component("noclip"), clients=3)
    assert OnlineSettings(batch_size=20, threat=Component("noclip")).federated_clients == 20


@about("online", "pgd", "noclip")
def test_id_parts_name_budget_trigger_and_tricks(about) -> None:
    assert format_budget(8 / 255) == "8of255" and format_budget(0.1) == "0.1"
    plain = OnlineSettings()
    assert plain.head() == ["stream", "pgd", "eps8of255"]
    assert plain.tail() == ["poisonedtrigger", "wm0.0", "b100x200a20"]
    fed = OnlineSettings(threat=Component("noclip"), weight_momentum=0.9, optimize_trigger=True,
                         norm="l2", eps=0.5)
    assert fed.head() == ["noclip", "pgd", "eps0.5l2"]
    assert fed.tail() == ["poisonedtrigger", "wm0.9", "optp", "b100x200a20", "m1of100"]


@about("online", "rawdigits", "digits")
def test_pixel_digits_are_the_standardised_digits_undone(about) -> None:
    raw, standard = datasets.make("rawdigits"), datasets.make("digits")
    assert float(raw.x_train.min()) >= 0 and float(raw.x_train.max()) <= 1
    assert torch.equal(raw.y_test, standard.y_test)
    mean, std = raw.x_train.mean(0), raw.x_train.std(0).clamp_min(1e-3)
    torch.testing.assert_close((raw.x_test - mean) / std, standard.x_test, rtol=0, atol=1e-5)


@about("online")
def test_client_shares_sum_their_samples_gradients(about) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x, y = torch.rand(8, 3, dtype=torch.float64), torch.tensor([0, 1] * 4)
    shares = client_gradients(model, (x, y), clients=4)
    for n in range(4):
        part = slice(2 * n, 2 * n + 2)
        loss = F.cross_entropy(model(x[part]), y[part], reduction="sum") / 8
        expected = torch.cat([g.flatten() for g in torch.autograd.grad(loss, model.parameters())])
        torch.testing.assert_close(shares[n], expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="clients=3 must be >= 1 and divide the batch of 8"):
        client_gradients(model, (x, y), clients=3)


@about("online", "phase")
def test_stealth_weight_below_zero_is_refused(about) -> None:
    with pytest.raises(ValueError, match=r"phase: gamma must be a number >= 0"):
        poisonings.make("phase", gamma=-1.0)


GRID = {"tier": "smoke", "protocol": "online", "defaults": {"batch_size": 20, "burnin_batches": 3,
        "accumulative_batches": 2, "eps": 0.1}, "defenses": ["gda"], "expect": {"floor": -100}}


@about("online", "digits", "mlp", "gda", "none", "pgd")
def test_standardised_data_is_refused_with_the_pixel_ones_named(about) -> None:
    raw = {**GRID, "settings": [{"dataset": "digits", "model": "mlp"}], "attacks": ["none"]}
    with pytest.raises(GridError, match=r"dataset 'digits' is standardised.*rawdigits"):
        expand_grid(raw, "grid")


def scenario(attack: str, trigger: str) -> Scenario:
    settings = OnlineSettings(batch_size=20, burnin_batches=3, accumulative_batches=2, eps=0.1,
                              trigger=trigger)
    return Scenario("online", Component("rawdigits"), Component("mlp"),
                    Defense(Component("gda")), Component(attack), settings)


@about("online", "rawdigits", "mlp", "gda", "phase", "none", "pgd")
def test_record_reports_every_metric_consistently(about) -> None:
    phased = run(scenario("phase", "poisoned")).metrics.values
    assert phased["poison_ratio"] == 1.0
    assert phased["time_ratio"] == phased["seconds_accumulative"] / phased["seconds_vanilla"]
    assert 0 <= phased["auroc"] <= 1
    assert phased["delta"] == pytest.approx(100 * (phased["accuracy_after"]
                                                   - phased["accuracy_before"]), abs=1e-9)
    alone = run(scenario("none", "clean")).metrics.values
    assert alone["poison_ratio"] == 0.0 and alone["auroc"] is None
    assert alone["seconds_vanilla"] is None and alone["offset_error"] is None

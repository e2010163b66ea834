"""The retrain protocol with the network victims and the new defenses: exact run identities."""

from __future__ import annotations

import pytest
import torch

from bench.poisoning.data import squares3
from bench.poisoning.settings import RetrainSettings
from bench.registry import targets, victims
from bench.run import Seeds, run
from bench.scenario import Component, Defense, Scenario

SMALL_LEAKY = {"hidden": 16, "epochs": 10, "batch_size": 30, "lr": 0.1}
TARGET = Component("gradpc", {"eps_w": 0.05})


def _run(defense: str, attack: Component, epsilon: float = 0.1):
    scenario = Scenario("retrain", Component("squares3"), Component("leakynet", SMALL_LEAKY),
                        Defense(Component(defense)), attack,
                        RetrainSettings(target=TARGET, epsilon=epsilon))
    return run(scenario, Seeds(0, 0), torch.device("cpu")).metrics


RUN_COMPONENTS = ("retrain", "leakynet", "squares3", "gc", "gradpc")


@pytest.mark.parametrize("components", [pytest.param(
    RUN_COMPONENTS, id="-".join(RUN_COMPONENTS), marks=pytest.mark.uses(*RUN_COMPONENTS))])
def test_network_run_records_the_target_threshold_and_mixture_gradient(components) -> None:
    metrics = _run("none", Component("gc", {"epochs": 20}))
    data = squares3()
    victim = victims.make_with_optional("leakynet", {"c_r": 1e-3, "classes": 3, "features": 64},
                                        **SMALL_LEAKY)
    clean = victim.fit(data.x_train, data.y_train)
    target = targets.make("gradpc", eps_w=0.05).build(
        victim.objective, clean, torch.as_tensor(data.x_train), victim.labels(data.y_train),
        None, 0)
    values = metrics.values
    assert values["tau"] == pytest.approx(victim.tau(target, data.x_train, data.y_train),
                                          rel=1e-12)
    assert values["poisons"] == 9 and values["epsilon"] == pytest.approx(0.1)
    assert values["bound_margin"] is None and values["recovery"] is None
    curve = metrics.curves["mixture_grad_norm"]
    # GC's last logged ||G|| / (1 + eps_d) is the whole-parameter ||g(chi)|| the protocol records
    assert values["mixture_grad_norm"] == pytest.approx(curve[-1], rel=1e-9)
    assert curve[-1] < curve[0]


@pytest.mark.parametrize("defense", [
    pytest.param(name, id="-".join((*RUN_COMPONENTS, name)),
                 marks=pytest.mark.uses(*RUN_COMPONENTS, name)) for name in ("maxup", "ihvp")])
def test_recovery_is_measured_against_the_undefended_run(defense: str) -> None:
    attack = Component("gc", {"epochs": 5})
    undefended, defended = _run("none", attack).values, _run(defense, attack).values
    assert defended["recovery"] == pytest.approx(
        100 * (defended["poisoned_accuracy"] - undefended["poisoned_accuracy"]), abs=1e-9)
    assert defended["drop"] == pytest.approx(
        100 * (defended["clean_accuracy"] - defended["poisoned_accuracy"]), abs=1e-9)
    assert defended["mixture_grad_norm"] == undefended["mixture_grad_norm"]

"""What ``byzbench run --ray`` checks before any run starts; none of it needs Ray installed."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.cluster import (
    ClusterError,
    RayBackend,
    check_reachable,
    check_resources,
    head_endpoint,
    import_ray,
    ray_device,
    run_slots,
)

TINY = str(Path(__file__).parents[1] / "reports" / "tiny_grid.yaml")


def node(cpus: float, gpus: float = 0.0, alive: bool = True) -> dict:
    """A ``ray.nodes()`` entry with only the fields the backend reads."""
    resources = {"CPU": cpus, "memory": 1e9} | ({"GPU": gpus} if gpus else {})
    return {"Alive": alive, "Resources": resources}


def test_slots_per_node_are_floored_and_summed() -> None:
    # 8 CPUs / 3 per run -> 2 runs; 2 GPUs / 0.25 -> 8, so CPUs bind on the first node;
    # second node: 16 CPUs -> 5 runs, 1 GPU / 0.25 -> 4 runs; the dead node counts nothing.
    nodes = [node(8, 2), node(16, 1), node(64, 8, alive=False)]
    assert run_slots(nodes, 3, 0.25) == 2 + 4
    assert run_slots(nodes, 3, 0) == 2 + 5
    assert run_slots([node(1.0, 1.0)], 1, 1 / 3) == 1  # 1 / (1/3) is 3 up to rounding
    assert run_slots([node(3.0, 1.0)], 1, 1 / 3) == 3


def test_gpus_asked_of_a_cluster_without_any() -> None:
    with pytest.raises(ClusterError, match=r"--gpus-per-run 0.25: the Ray cluster at h:1 has no "
                                           r"GPU"):
        check_resources([node(32), node(32)], 1, 0.25, "at h:1")


def test_run_larger_than_every_node() -> None:
    with pytest.raises(ClusterError, match=r"no node .* fits one run of --cpus-per-run 8 "
                                           r"--gpus-per-run 0 \(largest node: 4 CPUs"):
        check_resources([node(4), node(2)], 8, 0, "at h:1")
    assert check_resources([node(4), node(2)], 2, 0, "at h:1") == 3


def test_device_follows_the_gpus_a_run_declares() -> None:
    assert ray_device("auto", 0.0) == "cpu"
    assert ray_device("auto", 0.5) == "cuda"
    assert ray_device("cuda", 1.0) == "cuda"
    with pytest.raises(ClusterError, match="--device cuda with --ray needs --gpus-per-run"):
        ray_device("cuda", 0.0)
    with pytest.raises(ClusterError, match="would hold GPUs"):
        ray_device("cpu", 0.25)


def test_address_nothing_listens_on() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ClusterError, match=rf"--ray 127.0.0.1:{port}: the Ray head is "
                                           r"unreachable .*ray start --head"):
        check_reachable(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(ClusterError, match="--ray smoke: not a Ray address"):
        check_reachable("smoke")
    check_reachable("auto")  # Ray resolves it itself
    assert head_endpoint("ray://10.0.0.7:10001") == ("10.0.0.7", 10001)
    assert head_endpoint("[::1]:6379") == ("[::1]", 6379)


def test_address_that_listens() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(f"ray://127.0.0.1:{server.getsockname()[1]}", timeout=2)


def test_bad_backend_values_name_the_option() -> None:
    for kwargs, option in [({"cpus_per_run": 0}, "--cpus-per-run"),
                           ({"gpus_per_run": -1}, "--gpus-per-run"),
                           ({"gpus_per_run": float("nan")}, "--gpus-per-run"),
                           ({"retries": -1}, "--retries"), ({"workers": 0}, "workers")]:
        with pytest.raises(ClusterError, match=option):
            RayBackend("cpu", **kwargs)


def test_missing_ray_names_the_install_command(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ClusterError, match=r"pip install byzbench\[ray\]"):
        import_ray()
    status = main(["run", TINY, "--ray", "-j", "2", "--leaderboard", str(tmp_path)])
    assert status == 2
    assert "pip install byzbench[ray]" in capsys.readouterr().err
    assert not (tmp_path / "records").exists()


def exit_status(argv: list[str]) -> int:
    """``byzbench ARGV``'s exit status, whether ``main`` returns it or argparse exits."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code)


@pytest.mark.parametrize("argv, message", [
    (["--gpus-per-run", "0.5"], "--gpus-per-run: only used with --ray"),
    (["--retries", "1", "--cpus-per-run", "2"], "--cpus-per-run, --retries: only used with --ray"),
    (["--ray", "127.0.0.1:1", "--device", "cuda"], "--device cuda with --ray needs"),
    (["--ray", "smoke"], "--ray smoke: not a Ray address"),
    (["--ray", "--gpus-per-run", "-1"], "--gpus-per-run: expected a number >= 0, got '-1'"),
    (["--ray", "--retries", "x"], "--retries: expected an integer >= 0, got 'x'"),
], ids=["gpus-alone", "two-alone", "cuda-without-gpus", "grid-as-address", "gpus-below-zero",
        "retries-not-a-number"])
def test_command_line_mistakes(argv, message, capsys, tmp_path) -> None:
    assert exit_status(["run", TINY, "--leaderboard", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err

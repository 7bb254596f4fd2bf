"""The pytest fixtures, ``start_server`` and ``python -m simulator``."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from simulator.pytest_plugin import SimClient
from simulator.server import start_server
from tests.simulator.helpers import OWNER_COOKIE, Vendor360, session

ROOT = Path(__file__).resolve().parents[2]


def test_sim_fixture_talks_to_the_session_server(sim, sim_server):
    assert sim.url == sim_server.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.url)
    assert sim.control("GET", "/_sim/health")["ok"] is True
    assert sim.control("GET", "health")["ok"] is True


def test_sim_fixture_resets_before_each_test_part_1(sim):
    sim.add_fault(vendor="qihoo360", errno=102, count=-1)
    sim.control("POST", "360/accounts/1234123412/expire-sid")


def test_sim_fixture_resets_before_each_test_part_2(sim):
    assert sim.faults() == []
    assert Vendor360(sim.url, OWNER_COOKIE).call("/common/dev/GetList")["errno"] == 0


def test_sim_env_points_the_product_at_the_simulator(sim_env):
    for name in ("QIHOO360_API_URL", "QIHOO360_CONFIG_URL", "MAMMOTION_USER_URL",
                 "MAMMOTION_AUTH_URL", "MAMMOTION_OPEN_API_URL"):  # fmt: skip
        assert os.environ[name] == sim_env.url
    # The session's simulator runs its push server on a free port (18443 is the CLI's).
    assert os.environ["QIHOO360_PUSH_ADDR"] == f"127.0.0.1:{sim_env.push_port}"


def test_start_server_handle():
    handle = start_server("127.0.0.1", 0, seed=3, speed=2.0)
    url = handle.url
    client = SimClient(url)
    state = client.state()
    assert state["seed"] == 3 and state["clock"]["speed"] == 2.0
    assert handle.env()["QIHOO360_API_URL"] == url
    handle.stop()
    with pytest.raises(requests.ConnectionError):
        session().get(url + "/_sim/health", timeout=2)


def test_start_up_is_fast():
    started = time.monotonic()
    with start_server() as handle:
        assert SimClient(handle.url).control("GET", "health")["ok"]
    assert time.monotonic() - started < 2


def test_start_server_as_a_context_manager_with_a_pinned_start():
    with start_server(start=1_700_000_000, speed=0) as handle:
        assert SimClient(handle.url).now() == 1_700_000_000


def test_cli_help_warns_not_to_expose_it():
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert "must not be exposed" in " ".join(result.stdout.split())
    for option in ("--host", "--port", "--seed", "--speed", "--push-port", "--extra-360-accounts"):
        assert option in result.stdout


def test_cli_serves_on_loopback():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--seed", "5",
         "--extra-360-accounts", "2", "--runs-per-device", "3"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                state = SimClient(url).state()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert state["seed"] == 5
        assert state["vendors"]["qihoo360"]["generated_accounts"] == 2
        assert Vendor360(url, OWNER_COOKIE).call("/common/dev/GetList")["errno"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()

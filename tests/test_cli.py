"""The command line through subprocess: the demo, a read command with --json, usage and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from o2lite.sandbox import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "o2lite", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sx:
        yield sx


def test_demo_runs_offline():
    done = run("demo")
    assert done.returncode == 0, done.stderr
    for step in ("trade account", "session key", "Market buy", "BoundedMarket", "cancelled", "withdrew 250 USDC", "done"):
        assert step in done.stdout


def test_read_command_json(sandbox):
    done = run("--url", sandbox.url, "--json", "markets")
    assert done.returncode == 0, done.stderr
    pairs = [m["base"]["symbol"] + "/" + m["quote"]["symbol"] for m in json.loads(done.stdout)]
    assert pairs == ["FUEL/USDC", "ETH/USDC"]
    table = run("--url", sandbox.url, "depth", "FUEL/USDC", "--limit", "2")
    assert table.returncode == 0 and "0.0124" in table.stdout and "0.0126" in table.stdout


def test_usage_error_exits_2():
    done = run("depthh")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_error_is_one_line_exit_1(sandbox):
    done = run("--url", sandbox.url, "depth", "BTC/USDC")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "unknown market 'BTC/USDC'" in done.stderr


def test_wallet_and_trading_commands(sandbox, tmp_path):
    key = str(tmp_path / "owner.json")
    made = run("wallet", "new", "--out", key)
    assert made.returncode == 0 and os.stat(key).st_mode & 0o777 == 0o600
    private = json.load(open(key))["private_key"]
    assert private[2:] not in made.stdout and private[2:] not in made.stderr
    url = ("--url", sandbox.url)
    assert run(*url, "setup", "--key-file", key, "--fund").returncode == 0
    assert run(*url, "session", "open", "--key-file", key, "--markets", "FUEL/USDC", "--parallel").returncode == 0
    placed = run(*url, "--json", "order", "place", "--key-file", key, "FUEL/USDC", "buy", "0.0120", "100")
    assert placed.returncode == 0, placed.stderr
    order_id = json.loads(placed.stdout)["orders"][0]["order_id"]
    assert run(*url, "order", "cancel", "--key-file", key, "FUEL/USDC", order_id).returncode == 0
    assert run(*url, "settle", "--key-file", key, "FUEL/USDC").returncode == 0
    assert run(*url, "withdraw", "--key-file", key, "USDC", "1").returncode == 0

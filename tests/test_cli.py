"""The command line through subprocess: the demo, a read command with --json, usage and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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
    pairs = [m["pair"] for m in json.loads(done.stdout)]
    assert pairs == ["FUEL/USDC", "ETH/USDC"]
    table = run("--url", sandbox.url, "depth", "FUEL/USDC", "--limit", "2")
    assert table.returncode == 0 and "0.0124" in table.stdout and "0.0126" in table.stdout


def test_usage_error_exits_2():
    done = run("depthh")
    assert done.returncode == 2 and "invalid choice" in done.stderr and "did you mean 'depth'" in done.stderr


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


def test_a_newcomer_session(sandbox, tmp_path):
    """README → sandbox → trades → fills/PnL, with global flags anywhere and the env for the rest."""
    key = str(tmp_path / "me.json")
    env_url = {"O2LITE_URL": sandbox.url}
    assert run("wallet", "new", "--out", key).returncode == 0

    def cli(*args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=ROOT, O2LITE_KEY_FILE=key, **env_url)
        return subprocess.run([sys.executable, "-m", "o2lite", *args], capture_output=True, text=True, timeout=120,
                              env=env, cwd=ROOT)

    shown = cli("wallet", "show", "--json")
    assert json.loads(shown.stdout)["address"].startswith("0x")
    assert cli("setup", "--fund").returncode == 0
    again = cli("setup", "--fund")  # the faucet is cooling down: still a success, and it says so
    assert again.returncode == 0 and "cooling down" in again.stdout
    opened = cli("session", "open", "--markets", "FUEL/USDC", "--expiry", "7d", "--json")
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["expiry"] - time.time() > 6 * 86400
    assert "FUEL/USDC" in cli("session", "show").stdout
    placed = cli("order", "place", "FUEL/USDC", "buy", "0.0120", "100", "--json")  # --json after the command
    assert placed.returncode == 0, placed.stderr
    order = json.loads(placed.stdout)["orders"][0]
    assert order["price_human"] == "0.012" and order["price"] == 12000 and order["state"] == "open"
    table = cli("orders", "FUEL/USDC", "--open")
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout
    prefix = order["order_id"][:12]
    assert prefix + "…" in table.stdout
    assert "T" in table.stdout.splitlines()[1] and "Z" in table.stdout  # ISO-8601 UTC times
    cancelled = cli("order", "cancel", "FUEL/USDC", prefix)  # the prefix the table shows
    assert cancelled.returncode == 0, cancelled.stderr
    bought = cli("order", "place", "FUEL/USDC", "Buy", "0.0126", "500", "--type", "Market")
    assert bought.returncode == 0, bought.stderr
    fills = cli("fills", "FUEL/USDC", "--json")
    assert json.loads(fills.stdout)[0]["quantity_human"] == "500" and json.loads(fills.stdout)[0]["role"] == "taker"
    pnl = cli("--json", "pnl", "FUEL/USDC")
    assert json.loads(pnl.stdout)["human"]["position"] == "500"
    balance = cli("balance")
    assert "USDC" in balance.stdout and "9993.7" in balance.stdout  # human units: 10000 − 6.3
    assert cli("session", "close").returncode == 0
    assert "no session" in cli("settle", "FUEL/USDC").stderr


def test_watch_trades_prints_one_json_object_per_event(sandbox, tmp_path):
    import threading

    key = str(tmp_path / "w.json")
    assert run("wallet", "new", "--out", key).returncode == 0
    url = ("--url", sandbox.url)
    assert run(*url, "setup", "--key-file", key, "--fund").returncode == 0
    assert run(*url, "session", "open", "--key-file", key, "--markets", "FUEL/USDC").returncode == 0
    env = dict(os.environ, PYTHONPATH=ROOT)
    watcher = subprocess.Popen([sys.executable, "-m", "o2lite", "watch", "trades", "FUEL/USDC", "--count", "1",
                                "--json", *url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               cwd=ROOT)
    time.sleep(1.5)  # let it subscribe
    threading.Thread(target=run, args=(*url, "order", "place", "--key-file", key, "FUEL/USDC", "Buy", "0.0126", "10",
                                       "--type", "Market")).start()
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    event = json.loads(out.strip().splitlines()[0])
    assert event["quantity_human"] == "10" and event["price_human"] == "0.0126" and event["time"].endswith("Z")


@pytest.mark.parametrize("args,expected", [
    (("order", "place", "--keyfile", "k.json", "FUEL/USDC", "buy", "1", "1"), "did you mean --key-file"),
    (("depth", "FUEL/USDC", "--limt", "2"), "did you mean --limit"),
    (("order", "plac"), "did you mean 'place'"),
])
def test_typos_get_a_suggestion(args, expected):
    done = run(*args)
    assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr


def test_first_contact_errors_are_one_clear_line(tmp_path):
    refused = run("--url", "http://127.0.0.1:9", "markets")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "cannot reach http://127.0.0.1:9" in refused.stderr and "o2lite sandbox" in refused.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    for path, text in ((str(bad), "not a readable key file"), (str(tmp_path / "none.json"), "no key file")):
        done = run("--url", "http://127.0.0.1:9", "account", "--key-file", path)
        assert done.returncode == 1 and text in done.stderr and '"private_key"' in done.stderr
        assert "Traceback" not in done.stderr
    as_json = run("--json", "--url", "http://127.0.0.1:9", "markets")
    assert json.loads(as_json.stderr)["error"].startswith("cannot reach")
    port = run("sandbox", "--port", "80000")
    assert port.returncode == 1 and "--port must be 0–65535" in port.stderr and "Traceback" not in port.stderr

"""The sandbox meets scripts and other clients well (issue 21): start-up errors name the file
and the cause, bad options are refused, bars carry every official client's fields, a missing
required query parameter is a 400 naming it, a garbage request line a 400 at once."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

import o2lite
from o2lite import Wallet
from o2lite.cli.main import main
from o2lite.sandbox import Sandbox


def test_a_state_file_that_is_not_json_is_named(tmp_path, capsys):
    bad = tmp_path / "state.json"
    bad.write_text("not json")
    with pytest.raises(ValueError, match="state file .*state.json is not a sandbox state"):
        Sandbox(state=str(bad))
    assert main(["sandbox", "--port", "0", "--state", str(bad)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "not a sandbox state" in err and "not JSON (line 1, column 1" in err
    assert "Error" not in err  # words, not Python exception names


@pytest.mark.parametrize("content", ["[]", '{"a": 1}', '{"version": 1, "accounts": 5}', "7"])
def test_a_state_file_of_other_json_says_so_in_words(tmp_path, capsys, content):
    bad = tmp_path / "state.json"
    bad.write_text(content)
    assert main(["sandbox", "--port", "0", "--state", str(bad)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "not a sandbox state" in err, err
    assert not any(word in err for word in ("Error", "None", "object has no", "'list'", "'int'")), err


def test_a_state_file_in_a_missing_folder_is_named(capsys):
    assert main(["sandbox", "--port", "0", "--state", "/nonexistent/dir/s.json"]) == 1
    err = capsys.readouterr().err
    assert "/nonexistent/dir" in err and "does not exist" in err and "cannot listen" not in err


def test_a_negative_faucet_cooldown_is_refused(capsys):
    with pytest.raises(SystemExit) as usage:
        main(["sandbox", "--faucet-cooldown", "-3"])
    assert usage.value.code == 2 and "--faucet-cooldown" in capsys.readouterr().err
    with pytest.raises(ValueError, match="faucet_cooldown"):
        Sandbox(faucet_cooldown=-3)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sx:
        yield sx


def test_bars_carry_the_fields_of_every_official_client(sandbox):
    with o2lite.Client(sandbox.url) as client:
        trader = client.trader(Wallet.generate())
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"])
        trader.place("FUEL/USDC", "Buy", "0.0126", "300", "Market")
        market = client.markets.get("FUEL/USDC")
    now = int(time.time() * 1000)
    bars = requests.get(f"{sandbox.url}/v1/bars", params={"market_id": market.market_id, "from": now - 86_400_000,
                                                          "to": now + 1000, "resolution": "1d"}, timeout=10).json()
    (bar,) = bars
    assert bar["time"] == bar["timestamp"]  # o2-sdk 0.5.0 reads time and volume; the Rust SDK the rest
    assert int(bar["volume"]) == int(bar["buy_volume"]) + int(bar["sell_volume"]) == 300 * 10**9


def test_a_missing_required_query_parameter_is_a_400_naming_it(sandbox):
    with o2lite.Client(sandbox.url) as client:
        market_id = client.markets.get("FUEL/USDC").market_id
    answer = requests.get(f"{sandbox.url}/v1/bars", params={"market_id": market_id, "to": 1, "resolution": "1h"},
                          timeout=10)
    assert answer.status_code == 400 and answer.json()["code"] == 1001
    assert "missing query parameter from" in answer.json()["message"]


def test_a_balance_without_its_asset_is_a_400_naming_it_in_words(sandbox):
    answer = requests.get(f"{sandbox.url}/v1/balance", params={"contract": "0x" + "11" * 32}, timeout=10)
    assert answer.status_code == 400 and answer.json()["code"] == 1001, answer.text
    assert "missing query parameter asset_id" in answer.json()["message"]
    assert "ValidationError" not in answer.json()["message"]


def test_a_garbage_request_line_is_answered_at_once(sandbox):
    host, port = sandbox.url.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"\x00\x01\xfe garbage without a newline")
        reply = b""
        while True:  # the sandbox answers and closes; a socket.timeout here means it waited for more
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and json.loads(body)["code"] == 1001

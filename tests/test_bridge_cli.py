"""``o2lite bridge …`` in-process against the sandbox server: info, assets, a deposit (dry run, then
real) into the key's trade account, a withdrawal, both statuses, and the errors a user meets."""

from __future__ import annotations

import json

import pytest

from o2lite.cli import main
from o2lite.sandbox import Sandbox
from o2lite.sandbox.bridge import MAX_INPUTS


@pytest.fixture(scope="module")
def sx():
    with Sandbox() as sandbox:
        yield sandbox


def run(capsys, *argv: str):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    evm, fuel = str(folder / "evm.json"), str(folder / "fuel.json")
    assert main(["wallet", "new", "--evm", "--out", evm]) == 0
    assert main(["wallet", "new", "--out", fuel]) == 0
    return evm, fuel


def test_info_and_assets(sx, capsys):
    code, out, _ = run(capsys, "--url", sx.url, "--json", "bridge", "info")
    assert code == 0
    info = json.loads(out)
    assert [c["chain_id"] for c in info["chains"]] == [84532, 11155111] and info["fuel"]["chain_id"] == "9889"
    code, out, _ = run(capsys, "--url", sx.url, "bridge", "assets", "--chain", "84532")
    assert code == 0 and "USDC" in out and "native" in out and "84532" in out


def test_deposit_dry_run_then_real_then_status(sx, keys, capsys):
    evm, _ = keys
    assert main(["--url", sx.url, "--key-file", evm, "setup"]) == 0
    capsys.readouterr()
    messenger = sx.exchange.bridge.messenger
    args = ["--url", sx.url, "--key-file", evm, "bridge", "deposit", "USDC", "25.5", "--chain", "84532",
            "--messenger", messenger]
    code, out, err = run(capsys, *args, "--dry-run")
    assert code == 0, err
    assert "dry run" in out and "✓ amount" in out and "✓ messenger" in out and "trusted" in out
    code, out, err = run(capsys, "--json", *args)
    assert code == 0, err
    sent = json.loads(out)
    assert sent["amount"] == "25500000" and sent["amount_human"] == "25.5" and sent["status"] == "submitted"
    code, out, err = run(capsys, "--url", sx.url, "--json", "bridge", "status", "deposit", sent["id"], "--chain", "84532")
    assert code == 0 and json.loads(out)["source"]["status"] == "confirmed"


def test_withdraw_and_status(sx, keys, capsys):
    _, fuel = keys
    address = json.loads(open(fuel).read())["address"]
    usdc = sx.exchange.assets()["USDC"][0]
    sx.exchange.credit_wallet(None, address, usdc, 10_000_000)
    code, out, err = run(capsys, "--url", sx.url, "--key-file", fuel, "--json", "bridge", "withdraw", "USDC", "4",
                         "--chain", "84532", "--to", "0x" + "ab" * 20, "--max-inputs", str(MAX_INPUTS),
                         "--max-bridge-fee", "0.01", "--asset-registry", sx.exchange.bridge.contracts["assetRegistry"])
    assert code == 0, err
    sent = json.loads(out)
    assert sent["operation"] == "withdraw" and sent["amount_human"] == "4"
    assert sx.exchange.wallets[address][usdc] == 6_000_000
    code, out, _ = run(capsys, "--url", sx.url, "bridge", "status", "withdraw", sent["id"])
    assert code == 0 and "fuel success" in out


def test_errors_are_one_line(sx, keys, capsys):
    evm, fuel = keys
    code, _, err = run(capsys, "--url", sx.url, "--key-file", fuel, "bridge", "deposit", "USDC", "1", "--chain",
                       "84532", "--to", "0x" + "11" * 32, "--messenger", "0x" + "22" * 20)
    assert code == 1 and "EVM key" in err
    code, _, err = run(capsys, "--url", sx.url, "--key-file", evm, "bridge", "deposit", "USDC", "1.0000001",
                       "--chain", "84532", "--to", "0x" + "11" * 32, "--messenger", "0x" + "22" * 20)
    assert code == 1 and "more than 6 decimals" in err
    code, _, err = run(capsys, "--url", sx.url, "--key-file", evm, "bridge", "deposit", "USDC", "1", "--chain",
                       "84532", "--to", "0x" + "11" * 32)
    assert code == 1 and "pass --messenger" in err
    code, _, err = run(capsys, "--url", sx.url, "--key-file", fuel, "bridge", "withdraw", "USDC", "1", "--chain",
                       "84532", "--to", "0x" + "ab" * 20, "--max-inputs", "255")
    assert code == 1 and "pass --asset-registry" in err  # no default off the mainnet chains
    code, _, err = run(capsys, "--url", sx.url, "bridge", "status", "withdraw", "0x" + "00" * 32)
    assert code == 1 and "TRANSACTION_NOT_FOUND" in err
    code, _, err = run(capsys, "--network", "devnet", "bridge", "info")
    assert code == 1 and "--bridge-url" in err
    assert len(err.strip().splitlines()) == 1


def test_absurd_decimals_are_a_clear_error_not_a_decimal_exception():
    from o2lite.cli.bridge import base_units
    from o2lite.errors import ValidationError

    for decimals in (10**7, 10**50, -5):  # before: decimal.InvalidOperation (a traceback), or -5 taken as a shift
        with pytest.raises(ValidationError, match="decimals"):
            base_units("1.5", decimals)
    assert base_units("1.5", 77) == 15 * 10**76


def test_a_bad_fee_cap_is_named_before_any_request(sx, keys, capsys):
    evm, _ = keys
    code, _, err = run(capsys, "--url", "http://127.0.0.1:9", "--key-file", evm, "bridge", "deposit", "USDC", "1",
                       "--chain", "8453", "--to", "0x" + "11" * 32, "--max-network-fee", "abc")
    # before: a request first ("cannot reach"), then int()'s "invalid literal" once a proxy answered
    assert code == 1 and "--max-network-fee" in err and "cannot reach" not in err


def test_withdraw_takes_a_network_fee_cap(sx, keys, capsys):
    _, fuel = keys
    address = json.loads(open(fuel).read())["address"]
    sx.exchange.credit_wallet(None, address, sx.exchange.assets()["USDC"][0], 1_000_000)
    base = ["--url", sx.url, "--key-file", fuel, "bridge", "withdraw", "USDC", "1", "--chain", "84532", "--to",
            "0x" + "ab" * 20, "--max-inputs", "255", "--asset-registry", sx.exchange.bridge.contracts["assetRegistry"],
            "--dry-run"]
    code, out, err = run(capsys, *base, "--max-network-fee", "0")  # before: no such option for a withdrawal
    assert code == 0, err
    assert "✓ network fee: maxFee 0 ≤ 0" in out
    code, _, err = run(capsys, *base, "--max-network-fee", "lots")
    assert code == 1 and "--max-network-fee" in err


def test_an_ambiguous_submit_says_may_have_been_accepted_and_how_to_check(sx, keys, capsys, monkeypatch):
    evm, _ = keys
    assert main(["--url", sx.url, "--key-file", evm, "setup"]) in (0, 1)
    capsys.readouterr()
    proxy = sx.exchange.bridge
    real = proxy.deposit_submit

    def accepted_then_crashed(query, body):
        real(query, body)  # the deposit goes through...
        raise RuntimeError("the answer is lost")  # ...and the server answers 500

    monkeypatch.setitem(proxy.routes, ("POST", "/v1/deposit/submit"), accepted_then_crashed)
    code, _, err = run(capsys, "--url", sx.url, "--key-file", evm, "bridge", "deposit", "USDC", "1", "--chain", "84532",
                       "--messenger", proxy.messenger)
    assert code == 1
    # before: "Internal error (account None)" — no hint, no id
    assert "may have been accepted" in err and "o2lite bridge status deposit 0x" in err and "--chain 84532" in err
    tx_hash = err.split("o2lite bridge status deposit ")[1].split()[0]
    code, out, _ = run(capsys, "--url", sx.url, "bridge", "status", "deposit", tx_hash, "--chain", "84532")
    assert code == 0 and "confirmed" in out


def test_an_ambiguous_withdraw_names_the_status_command_with_its_id(sx, keys, capsys, monkeypatch):
    _, fuel = keys
    address = json.loads(open(fuel).read())["address"]
    sx.exchange.credit_wallet(None, address, sx.exchange.assets()["USDC"][0], 1_000_000)
    proxy = sx.exchange.bridge
    real = proxy.withdraw_submit

    def accepted_then_crashed(query, body):
        real(query, body)
        raise RuntimeError("the answer is lost")

    monkeypatch.setitem(proxy.routes, ("POST", "/v1/withdraw/submit"), accepted_then_crashed)
    code, _, err = run(capsys, "--url", sx.url, "--key-file", fuel, "bridge", "withdraw", "USDC", "1", "--chain",
                       "84532", "--to", "0x" + "ab" * 20, "--max-inputs", "255", "--asset-registry",
                       proxy.contracts["assetRegistry"])
    assert code == 1 and "may have been accepted" in err and "o2lite bridge status withdraw 0x" in err
    fuel_tx_id = err.split("o2lite bridge status withdraw ")[1].split("`")[0]
    code, out, _ = run(capsys, "--url", sx.url, "bridge", "status", "withdraw", fuel_tx_id)
    assert code == 0 and "fuel success" in out


def test_to_type_address_without_to_is_refused_not_overridden(sx, keys, capsys):
    evm, _ = keys
    code, _, err = run(capsys, "--url", sx.url, "--key-file", evm, "bridge", "deposit", "USDC", "1", "--chain", "84532",
                       "--messenger", sx.exchange.bridge.messenger, "--to-type", "address", "--dry-run")
    # before: silently planned as a deposit to the trade account as a contract
    assert code == 1 and "--to" in err and "--to-type address" in err

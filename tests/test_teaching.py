"""Teach the protocol (issue #14): named segments are the signing bytes of every vector, explained
requests, dry runs, the body checker on bodies of other clients, the README's worked example."""

from __future__ import annotations

import json
import pathlib
import re
from types import SimpleNamespace

import pytest
import responses

import o2lite
from o2lite import EvmWallet, Wallet, check_body, encoding, typed_data
from o2lite.encoding import join
from o2lite.keccak import keccak256
from o2lite.models import MarketsInfo
from o2lite.sandbox import Exchange, Sandbox

from .conftest import load_cases
from .exchange_mock import SANDBOX, ExchangeMock

ROOT = pathlib.Path(__file__).parent.parent


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def markets_client(case: dict) -> SimpleNamespace:
    """A client whose markets are a vector's (``check_body`` reads only its markets)."""
    info = MarketsInfo.from_json({"chain_id": "9889", "accounts_registry_id": case["accounts_registry_id"],
                                  "markets": case["markets"]})
    by_id = {m.market_id: m for m in info.markets}
    return SimpleNamespace(markets=SimpleNamespace(info=lambda: info, get=lambda ref: by_id[ref.lower()]))


@pytest.mark.parametrize("case", load_cases("actions"), ids=lambda c: f"n{c['nonce']}")
def test_action_segments_are_the_vectors_and_other_clients_bodies_check_out(case):
    markets = {m["market_id"]: m for m in case["markets"]}
    calls = [o2lite.actions.action_to_call(a, markets[g["market_id"]], case["accounts_registry_id"])
             for g in case["actions"] for a in g["actions"]]
    for parallel, nonce, expected, signature in ((False, case["nonce"], case["signing_bytes"], case["signature"]),
                                                 (True, case["parallel_nonce"], case["parallel_signing_bytes"],
                                                  case["parallel_signature"])):
        segments = encoding.actions_segments(int(nonce), calls, parallel=parallel)
        assert hx(join(segments)) == expected
        assert all(seg.name for seg in segments)
        session = Wallet(case["session_private_key"]).address
        body = {"actions": case["actions"], "signature": {"Secp256k1": signature},
                ("parallel_nonce" if parallel else "nonce"): str(nonce), "trade_account_id": "0x" + "aa" * 32,
                "session_id": {"Address": session}, "collect_orders": True}  # as the official SDK sends it
        report = check_body(json.dumps(body), client=markets_client(case))
        canonical_problem = [p for p in report.problems if "not canonical" in p]
        referer = any("RegisterReferer" in a and "referer" in a["RegisterReferer"]
                      for g in case["actions"] for a in g["actions"])
        assert bool(canonical_problem) == referer  # the vectors spell RegisterReferer with both keys
        assert report.signer == session and report.request is not None
        assert report.request.signing_bytes == bytes.fromhex(expected[2:])
        assert "digest recipe: digest = sha256" in report.request.explain()


@pytest.mark.parametrize("case", load_cases("sessions"), ids=lambda c: f"{c['owner_kind']}-{c['nonce']}")
def test_session_segments_are_the_vectors(case):
    segments = encoding.session_segments(int(case["nonce"]), case["chain_id"], case["session_address"],
                                         case["contract_ids"], int(case["expiry"]))
    assert hx(join(segments)) == case["signing_bytes"]
    owner = case["owner_address"]
    body = {"contract_id": "0x" + "bb" * 32, "session_id": {"Address": case["session_address"].lower()},
            "signature": {"Secp256k1": case["signature"]}, "contract_ids": [c.lower() for c in case["contract_ids"]],
            "nonce": str(case["nonce"]), "expiry": str(case["expiry"])}
    report = check_body(body, owner=owner, chain_id=int(case["chain_id"]))
    assert report.ok, report.problems
    assert report.request is not None and report.request.signing_bytes == bytes.fromhex(case["signing_bytes"][2:])


@pytest.mark.parametrize("case", load_cases("withdrawals"), ids=lambda c: f"{c['owner_kind']}-{c['nonce']}")
def test_withdraw_segments_and_typed_preimage_are_the_vectors(case):
    segments = encoding.withdraw_segments(int(case["nonce"]), case["chain_id"], case["to"], case["asset_id"],
                                          int(case["amount"]))
    assert hx(join(segments)) == case["signing_bytes"]
    struct = typed_data.parallel_withdraw_struct(case["owner_address"], int(case["parallel_nonce"]), case["to"],
                                                 int(case["amount"]), case["asset_id"])
    preimage = typed_data.typed_preimage(case["owner_address"], case["chain_id"], case["trade_account_id"], struct)
    assert hx(keccak256(join(preimage))) == case["typed_digest"]
    body = {"trade_account_id": case["trade_account_id"].lower(), "signature": {"TypedSecp256k1": case["typed_signature"]},
            "parallel_nonce": str(case["parallel_nonce"]), "to": encoding.identity_json(case["to"]),
            "asset_id": case["asset_id"].lower(), "amount": str(case["amount"])}
    report = check_body(body, owner=case["owner_address"], chain_id=int(case["chain_id"]))
    assert report.ok, report.problems


@pytest.mark.parametrize("case", load_cases("order_args"))
def test_order_args_segments_are_the_vectors(case):
    segments = encoding.order_args_segments(int(case["price"]), int(case["quantity"]), case["order_type"])
    assert hx(join(segments)) == case["encoded"]


@pytest.fixture
def world():
    exchange = Exchange()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock = ExchangeMock(rsps, exchange)
        with o2lite.Client(SANDBOX) as client:
            yield client, mock, exchange


@pytest.mark.parametrize("owner_cls", [Wallet, EvmWallet], ids=["fuel", "evm"])
def test_dry_runs_send_nothing_and_send_later_unchanged(world, owner_cls):
    client, mock, exchange = world
    owner = owner_cls.generate()
    real = client.trader(owner)
    real.setup_account(fund=True)
    dry = client.trader(owner, dry_run=True)
    assert isinstance(dry, o2lite.DryRunTrader)
    registration = dry.open_session(["FUEL/USDC"], nonce_kind="parallel")
    assert registration.recipe == ("evm-personal" if owner_cls is EvmWallet else "fuel-personal")
    assert not mock.posts("/v1/session")  # nothing sent
    assert "set_session" in registration.explain()
    real.open_session(["FUEL/USDC"], nonce_kind="parallel")
    dry.session = real.session
    before = len(mock.posts("/v1/session/actions"))
    prepared = [dry.place("FUEL/USDC", "Buy", "0.0110", "10") for _ in range(3)]
    assert len(mock.posts("/v1/session/actions")) == before
    nonces = {p.nonce for p in prepared}
    live = real.place("FUEL/USDC", "Buy", "0.0110", "10")  # a real send after the dry runs
    sent = int(mock.posts("/v1/session/actions")[-1][2]["parallel_nonce"])
    assert len(nonces) == 3 and sent not in nonces  # dry-run parallel nonces are never reused
    result = prepared[0].send()  # sent later, unchanged
    assert result.tx_id and mock.posts("/v1/session/actions")[-1][2] == dict(prepared[0].body)
    assert live.tx_id != result.tx_id
    withdrawal = dry.withdraw("USDC", "1", nonce_kind="parallel")
    assert withdrawal.recipe == "typed" and withdrawal.struct and "ParallelWithdrawArgs" in withdrawal.explain()
    assert check_body(withdrawal.body, owner=owner.address, client=client).ok


def test_check_names_the_wrong_field(world):
    client, mock, exchange = world
    trader = client.trader(Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"])
    dry = o2lite.DryRunTrader(client, trader.owner)
    dry.session = trader.session
    body = json.loads(json.dumps(dry.place("FUEL/USDC", "Sell", "0.0140", "10").body))
    assert check_body(body, client=client).ok
    body["actions"][0]["actions"][1]["CreateOrder"]["side"] = "sell"
    body["actions"][0]["actions"][1]["CreateOrder"]["quantity"] = 10_000_000_000
    report = check_body(body, client=client)
    assert not report.ok and any("not canonical" in p for p in report.problems)
    body["actions"][0]["actions"][1]["CreateOrder"].update(side="Sell", quantity="20000000000")  # canonical, tampered
    report = check_body(body, client=client)
    assert [p for p in report.problems if "recovers to" in p] and "PROBLEMS" in report.explain()
    assert check_body("{not json").kind == "unreadable"
    report = check_body({"nonce": "1", "signature": {"Secp256k1": "0x12"}, "trade_account_id": "0x1"}, chain_id=1,
                        owner="0x" + "11" * 32)
    assert any("trade_account_id" in p for p in report.problems) and any("signature" in p for p in report.problems)


def worked_example() -> str:
    """The README's example: a deterministic order (fixed keys, nonce and sandbox markets)."""
    from o2lite.session import TradeSession

    with Sandbox() as sx, o2lite.Client(sx.url) as client:
        market = client.markets.get("FUEL/USDC")
        session = TradeSession("0x" + "ac" * 32, Wallet("0x" + "01" * 32).address, Wallet("0x" + "02" * 32),
                               (market.contract_id,), 2**40)
        action = o2lite.order_building.create_order_action(market, "Buy", "0.0125", "100", clock=lambda: 0)
        prepared = client.session.prepare_actions(session, [{"market_id": "FUEL/USDC", "actions": [action]}], now=0)
        return client.session.actions_request(session, prepared, nonce=7).explain()


def test_readme_worked_example_is_what_the_code_prints():
    readme = (ROOT / "README.rst").read_text()
    block = re.search(r"How an O2 order is signed\n-+\n.*?::\n\n((?:    [^\n]*\n|\n)+)", readme, re.S)
    assert block, "the README section is missing"
    shown = re.sub(r"^    ", "", block.group(1), flags=re.M).strip("\n")
    assert shown == worked_example().strip("\n")


def test_cli_dry_run_and_check(tmp_path):
    import os
    import subprocess
    import sys

    with Sandbox() as sx:
        env = dict(os.environ, PYTHONPATH=str(ROOT), O2LITE_URL=sx.url, O2LITE_KEY_FILE=str(tmp_path / "k.json"))

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "o2lite", *args], capture_output=True, text=True, env=env,
                                  cwd=ROOT, timeout=120)

        assert cli("wallet", "new", "--out", str(tmp_path / "k.json")).returncode == 0
        assert cli("setup", "--fund").returncode == 0
        assert cli("session", "open", "--markets", "FUEL/USDC").returncode == 0
        dry = cli("order", "place", "FUEL/USDC", "buy", "0.0120", "100", "--dry-run")
        assert dry.returncode == 0 and "order_args.price u64" in dry.stdout and "nothing was sent" in dry.stdout
        assert sx.exchange.orders and all(o.account != "x" for o in sx.exchange.orders.values())
        as_json = cli("--dry-run", "--json", "withdraw", "USDC", "1")
        body = json.loads(as_json.stdout)[0]["body"]
        (tmp_path / "body.json").write_text(json.dumps(body))
        owner = json.loads(cli("wallet", "show", "--json").stdout)["address"]
        checked = cli("check", str(tmp_path / "body.json"), "--owner", owner)
        assert checked.returncode == 0 and "OK" in checked.stdout
        body["amount"] = "2000000"
        (tmp_path / "body.json").write_text(json.dumps(body))
        bad = cli("check", str(tmp_path / "body.json"), "--owner", owner)
        assert bad.returncode == 1 and "recovers to" in bad.stdout


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run_against_the_embedded_sandbox(script):
    import subprocess
    import sys

    lines = script.read_text().splitlines()
    assert len(lines) <= 60, f"{script.name} has {len(lines)} lines"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()


def test_there_are_five_examples():
    assert len(list((ROOT / "examples").glob("*.py"))) == 5

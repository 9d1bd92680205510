"""A careless user gets a ValidationError before any request (issue #9) — never a stray
exception, never a silent clamp, never a slow conversion."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import responses

import o2lite
from o2lite import Chain, Wallet
from o2lite.session import TradeSession

from .conftest import BASE, MARKETS_BODY

ACCOUNT = "0x" + "cc" * 32
CONTRACT = MARKETS_BODY["markets"][0]["contract_id"]


@pytest.fixture
def world():
    """A client whose markets are cached, and a trader with no account id yet: any request
    beyond this point would be a GET /v1/accounts (or worse) — and `responses` refuses it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(BASE + "/v1/markets", json=MARKETS_BODY)
        with o2lite.Client("testnet") as client:
            client.markets.info()
            trader = client.trader(Wallet("0x" + "81" * 32))
            yield client, trader, rsps


def _session(trader):
    trader.session = TradeSession(ACCOUNT, trader.owner.address, Wallet("0x" + "82" * 32), (CONTRACT,),
                                  int(time.time()) + 3600, "sequential")
    trader.trade_account_id = ACCOUNT


BAD_TRADER_CALLS = [
    ("open_session(None)", lambda t: t.open_session(None)),
    ("open_session('FUEL/USDC')", lambda t: t.open_session("FUEL/USDC")),
    ("open_session([])", lambda t: t.open_session([])),
    ("open_session(expiry='abc')", lambda t: t.open_session(["FUEL/USDC"], expiry="abc")),
    ("open_session(expiry=-1)", lambda t: t.open_session(["FUEL/USDC"], expiry=-1)),
    ("open_session(expiry=past)", lambda t: t.open_session(["FUEL/USDC"], expiry=1)),
    ("open_session(nonce_kind)", lambda t: t.open_session(["FUEL/USDC"], nonce_kind="fast")),
    ("open_session(lane=9)", lambda t: t.open_session(["FUEL/USDC"], lane=9)),
    ("open_session(session_key)", lambda t: t.open_session(["FUEL/USDC"], session_key="0x" + "11" * 32)),
    ("open_session(parallel_registration)", lambda t: t.open_session(["FUEL/USDC"], parallel_registration=True)),
    ("open_session(unknown market)", lambda t: t.open_session(["DOGE/USDC"])),
    ("withdraw(asset=None)", lambda t: t.withdraw(None, "1")),
    ("withdraw(amount=None)", lambda t: t.withdraw("USDC", None)),
    ("withdraw(amount=-1)", lambda t: t.withdraw("USDC", "-1")),
    ("withdraw(amount=float)", lambda t: t.withdraw("USDC", 1.5)),
    ("withdraw(amount=0)", lambda t: t.withdraw("USDC", "0.0000001")),
    ("withdraw(amount huge)", lambda t: t.withdraw("USDC", "1e999999999")),
    ("withdraw(amount over u64)", lambda t: t.withdraw("USDC", "99999999999999999")),
    ("withdraw(to bad)", lambda t: t.withdraw("USDC", "1", {"Address": "0x1"})),
    ("withdraw(unknown asset)", lambda t: t.withdraw("DOGE", "1")),
    ("withdraw(nonce_kind)", lambda t: t.withdraw("USDC", "1", nonce_kind="x")),
    ("submit(None)", lambda t: t.submit(None)),
    ("place without a session", lambda t: t.place("FUEL/USDC", "Buy", "0.01", "10")),
    ("save_session(None)", lambda t: t.save_session(None)),
    ("load_session(None)", lambda t: t.load_session(None)),
    ("setup_account(fund='yes')", lambda t: t.setup_account(fund="yes")),
    ("reconcile(ValueError)", lambda t: t.reconcile(ValueError("x"))),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_TRADER_CALLS], ids=[n for n, _ in BAD_TRADER_CALLS])
def test_bad_trader_input_is_refused_before_any_request(world, call):
    client, trader, rsps = world
    sent = len(rsps.calls)
    started = time.monotonic()
    with pytest.raises(o2lite.ValidationError):
        call(trader)
    assert len(rsps.calls) == sent, "a request was sent before the input was checked"
    assert time.monotonic() - started < 0.5


BAD_SESSION_CALLS = [
    ("submit(None)", lambda t: t.submit(None)),
    ("group without market_id", lambda t: t.submit([{"actions": [t.settle_action()]}])),
    ("group without actions", lambda t: t.submit([{"market_id": "FUEL/USDC"}])),
    ("actions not a list", lambda t: t.submit([{"market_id": "FUEL/USDC", "actions": "cancel"}])),
    ("six actions", lambda t: t.submit([{"market_id": "FUEL/USDC", "actions": [t.settle_action()] * 6}])),
    ("foreign market", lambda t: t.place("ETH/USDC", "Buy", "2000", "1")),
    ("price huge exponent", lambda t: t.place("FUEL/USDC", "Buy", "1e999999999", "10")),
    ("price 1e-999999999", lambda t: t.place("FUEL/USDC", "Buy", "1e-999999999", "10")),
    ("quantity over u64", lambda t: t.place("FUEL/USDC", "Sell", "0.01", "1e30")),
    ("price nan", lambda t: t.place("FUEL/USDC", "Buy", "nan", "10")),
    ("price float", lambda t: t.place("FUEL/USDC", "Buy", 0.012, "10")),
    ("price None", lambda t: t.place("FUEL/USDC", "Buy", None, "10")),
    ("side None", lambda t: t.place("FUEL/USDC", None, "0.012", "10")),
    ("side hold", lambda t: t.place("FUEL/USDC", "hold", "0.012", "10")),
    ("order type", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", "Teleport")),
    ("bounded without bounds", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", "BoundedMarket")),
    ("below min_order", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "0.001")),
    ("post_only='yes'", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", post_only="yes")),
    ("post_only with Market", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", "Market", post_only=True)),
    ("post_only with Limit", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", "Limit", post_only=True)),
    ("max_price with Spot", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", max_price="0.02")),
    ("limit_timestamp with FillOrKill", lambda t: t.place("FUEL/USDC", "Buy", "0.012", "10", "FillOrKill",
                                                          limit_timestamp=1_900_000_000)),
    ("batch: post_only with BoundedMarket", lambda t: t.batch().place(
        "FUEL/USDC", "Buy", "0.012", "10", "BoundedMarket", max_price="0.02", min_price="0.01", post_only=True)),
    ("cancel bad id", lambda t: t.cancel("0x1", "FUEL/USDC")),
    ("cancel without market", lambda t: t.cancel("0x" + "01" * 32)),
    ("referer bad", lambda t: t.register_referer({"Wallet": "x"}, "FUEL/USDC")),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_SESSION_CALLS], ids=[n for n, _ in BAD_SESSION_CALLS])
def test_bad_action_input_is_refused_before_any_request(world, call):
    client, trader, rsps = world
    _session(trader)
    sent = len(rsps.calls)
    started = time.monotonic()
    with pytest.raises(o2lite.ValidationError):
        call(trader)
    assert len(rsps.calls) == sent
    assert time.monotonic() - started < 0.5


BAD_CLIENT_CALLS = [
    ("orders.list(start_timestamp='abc')",
     lambda c: c.orders.list("FUEL/USDC", ACCOUNT, start_timestamp="abc", start_order_id="0x" + "01" * 32)),
    ("orders.list(is_open='no')", lambda c: c.orders.list("FUEL/USDC", ACCOUNT, is_open="no")),
    ("orders.list(count=0)", lambda c: c.orders.list("FUEL/USDC", ACCOUNT, count=0)),
    ("markets.get(None)", lambda c: c.markets.get(None)),
    ("markets.depth(precision=0)", lambda c: c.markets.depth("FUEL/USDC", precision=0)),
    ("markets.trades(start_trade_id only)", lambda c: c.markets.trades("FUEL/USDC", start_trade_id="1")),
    ("markets.bars(resolution=None)", lambda c: c.markets.bars("FUEL/USDC", None, 0, 1)),
    ("markets.bars(end < start)", lambda c: c.markets.bars("FUEL/USDC", "1h", 10, 1)),
    ("accounts.get() none", lambda c: c.accounts.get()),
    ("accounts.balance(bad id)", lambda c: c.accounts.balance("0x12", contract=ACCOUNT)),
    ("accounts.nonce_window(lane=5)", lambda c: c.accounts.nonce_window(ACCOUNT, 5)),
    ("aggregated.orderbook(level=True)", lambda c: c.aggregated.orderbook("FUEL_USDC", level=True)),
    ("aggregated.trades(None)", lambda c: c.aggregated.trades(None)),
    ("session.update(None)", lambda c: c.session.update("0x" + "11" * 32, None)),
    ("timeout nan", lambda c: c.timeout(float("nan")).__enter__()),
    ("Chain(2**64 + 5)", lambda c: Chain(2**64 + 5)),
    ("Chain(-1)", lambda c: Chain(-1)),
    ("Chain(1.5)", lambda c: Chain(1.5)),
    ("Client(retries=0)", lambda c: o2lite.Client("testnet", retries=0)),
    ("Client(pool_size=0)", lambda c: o2lite.Client("testnet", pool_size=0)),
    ("Client(timeout=-1)", lambda c: o2lite.Client("testnet", timeout=-1)),
    ("Wallet(bad key)", lambda c: Wallet("0x1234")),
    ("Wallet(zero key)", lambda c: Wallet("0x" + "00" * 32)),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_CLIENT_CALLS], ids=[n for n, _ in BAD_CLIENT_CALLS])
def test_bad_client_input_is_refused_before_any_request(world, call):
    client, trader, rsps = world
    sent = len(rsps.calls)
    with pytest.raises(o2lite.ValidationError):
        call(client)
    assert len(rsps.calls) == sent


def test_chain_integers_pass_through_unchanged(world):
    client, trader, rsps = world
    _session(trader)
    action = trader.create_order_action("FUEL/USDC", "buy", Chain(12000), Chain(10**12))
    assert action == {"CreateOrder": {"side": "Buy", "price": "12000", "quantity": "1000000000000",
                                      "order_type": "Spot"}}
    assert trader.create_order_action("FUEL/USDC", "SELL", Decimal("0.012"), 1000)["CreateOrder"]["side"] == "Sell"


def test_private_keys_never_in_errors(world):
    secret = "ab" * 31 + "zz"
    with pytest.raises(o2lite.ValidationError) as info:
        Wallet(secret)
    assert secret not in str(info.value) and secret[:20] not in repr(info.value)

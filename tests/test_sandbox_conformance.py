"""The sandbox speaks the exchange's shapes to any client (issue #10, PROTOCOL §3 and §5).

Each endpoint's answer is checked against the table of PROTOCOL §5 — exact field names and JSON
types — as a client written to the official typed models (not o2lite's tolerant parsers) would
read it; and the two error forms: pre-flight errors carry a ``code``, on-chain reverts do not.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.sandbox import Exchange

from .exchange_mock import SANDBOX, ExchangeMock

DIGITS = re.compile(r"[0-9]+")
SIGNED = re.compile(r"-?[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
HEX_ID = re.compile(r"0x[0-9a-f]{64}")


def intstr(v: Any) -> bool:
    return isinstance(v, str) and bool(DIGITS.fullmatch(v))


def signed(v: Any) -> bool:
    return isinstance(v, str) and bool(SIGNED.fullmatch(v))


def decimal_text(v: Any) -> bool:
    return isinstance(v, str) and bool(DECIMAL.fullmatch(v))


def hex_id(v: Any) -> bool:
    return isinstance(v, str) and bool(HEX_ID.fullmatch(v))


def num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def boolean(v: Any) -> bool:
    return isinstance(v, bool)


def text(v: Any) -> bool:
    return isinstance(v, str)


def identity(v: Any) -> bool:
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)) in ("Address", "ContractId") and hex_id(
        next(iter(v.values())))


def level_pair(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(num(x) for x in v)


def conforms(value: Any, schema: Any, where: str = "$") -> None:
    """Assert ``value`` matches ``schema``: a predicate, ``{field: schema}`` (exact field set),
    ``[schema]`` (a non-empty list of it) or ``("map", schema)`` (any keys)."""
    if callable(schema):
        assert schema(value), f"{where}: {value!r} fails {schema.__name__}"
    elif isinstance(schema, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        assert set(value) == set(schema), f"{where}: fields {sorted(value)} != {sorted(schema)}"
        for key, sub in schema.items():
            conforms(value[key], sub, f"{where}.{key}")
    elif isinstance(schema, list):
        assert isinstance(value, list) and value, f"{where}: expected a non-empty list, got {value!r}"
        for i, item in enumerate(value):
            conforms(item, schema[0], f"{where}[{i}]")
    else:
        kind, sub = schema
        assert kind == "map" and isinstance(value, dict) and value, f"{where}: expected a map"
        for key, item in value.items():
            conforms(item, sub, f"{where}.{key}")


TRADE = {"trade_id": intstr, "side": text, "price": intstr, "quantity": intstr, "total": intstr,
         "timestamp": intstr, "maker": identity, "taker": identity}
ORDER = {"order_id": hex_id, "market_id": hex_id, "side": text, "order_type": lambda v: isinstance(v, (str, dict)),
         "price": intstr, "price_fill": intstr, "quantity": intstr, "quantity_fill": intstr, "timestamp": intstr,
         "close": boolean, "partially_filled": boolean, "cancel": boolean, "owner": identity}
ASSET = {"symbol": text, "asset": hex_id, "decimals": integer, "max_precision": integer}
MARKET = {"contract_id": hex_id, "market_id": hex_id, "maker_fee": intstr, "taker_fee": intstr, "min_order": intstr,
          "dust": intstr, "price_window": integer, "base": ASSET, "quote": ASSET}
LEVEL = {"price": intstr, "quantity": intstr}

SHAPES = {
    ("/v1/markets", "m"): {"books_registry_id": hex_id, "accounts_registry_id": hex_id,
                           "trade_account_oracle_id": hex_id, "chain_id": text, "base_asset_id": hex_id,
                           "markets": [MARKET]},
    ("/v1/markets/summary", "m"): {"market_id": hex_id, "high_price": intstr, "low_price": intstr,
                                   "last_price": intstr, "volume_24h": intstr, "change_24h": signed},
    ("/v1/markets/ticker", "m"): [{"market_id": hex_id, "high": intstr, "low": intstr, "bid": intstr,
                                   "bid_volume": intstr, "ask": intstr, "ask_volume": intstr, "open": intstr,
                                   "close": intstr, "last": intstr, "previous_close": intstr, "change": signed,
                                   "percentage": decimal_text, "average": intstr, "base_volume": intstr,
                                   "quote_volume": intstr, "timestamp": intstr}],
    ("/v1/depth", "m"): {"action": text, "market_id": hex_id, "orders": {"buys": [LEVEL], "sells": [LEVEL]}},
    ("/v1/trades", "m"): {"trades": [TRADE], "market_id": hex_id},
    ("/v1/trades_by_account", "ma"): {"trades": [dict(TRADE, trader_side=text)], "market_id": hex_id},
    ("/v1/bars", "mb"): [{"timestamp": intstr, "open": intstr, "high": intstr, "low": intstr, "close": intstr,
                          "buy_volume": intstr, "sell_volume": intstr,
                          "time": intstr, "volume": intstr}],  # o2-sdk 0.5.0 reads these two (issue 21)
    ("/v1/orders", "ma"): {"identity": identity, "market_id": hex_id, "orders": [ORDER]},
    ("/v1/accounts", "o"): {"trade_account_id": hex_id,
                            "trade_account": {"nonce": intstr, "owner": identity, "last_modification": integer,
                                              "synced_with_network": boolean},
                            "session": {"session_id": identity, "expiry": intstr, "contract_ids": [hex_id]}},
    ("/v1/accounts/window", "w"): {"nonce_session_id": integer, "base": intstr,
                                   "slots": [{"word_position": intstr, "bitmap": intstr}]},
    ("/v1/balance", "b"): {"order_books": ("map", {"locked": intstr, "unlocked": intstr, "fee": intstr}),
                           "total_locked": intstr, "total_unlocked": intstr, "trading_account_balance": intstr},
    ("/v1/aggregated/assets", ""): ("map", {"name": text, "unified_cryptoasset_id": integer, "can_withdraw": boolean,
                                            "can_deposit": boolean, "min_withdraw": num, "min_deposit": num,
                                            "maker_fee": num, "taker_fee": num}),
    ("/v1/aggregated/orderbook", "p"): {"timestamp": integer, "bids": [level_pair], "asks": [level_pair]},
    ("/v1/aggregated/summary", ""): [{"trading_pairs": text, "base_currency": text, "quote_currency": text,
                                      "last_price": num, "lowest_ask": num, "highest_bid": num, "base_volume": num,
                                      "quote_volume": num, "price_change_percent_24h": num,
                                      "highest_price_24h": num, "lowest_price_24h": num}],
    ("/v1/aggregated/ticker", ""): ("map", {"last_price": num, "base_volume": num, "quote_volume": num}),
    ("/v1/aggregated/trades", "p"): [{"trade_id": integer, "price": num, "base_volume": num, "quote_volume": num,
                                      "timestamp": integer, "trade_type": lambda v: v in ("buy", "sell")}],
    ("/v1/aggregated/coingecko/tickers", ""): [{"ticker_id": text, "base_currency": text, "target_currency": text,
                                                "last_price": num, "base_volume": num, "target_volume": num,
                                                "bid": num, "ask": num, "high": num, "low": num}],
    ("/v1/aggregated/coingecko/orderbook", "t"): {"ticker_id": text, "timestamp": integer, "bids": [level_pair],
                                                  "asks": [level_pair]},
    ("/health", ""): {"status": lambda v: v == "ok"},
}


@pytest.fixture(scope="module")
def world():
    """An exchange with one trader who has traded, so every list has something in it."""
    exchange = Exchange()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ExchangeMock(rsps, exchange)
        with o2lite.Client(SANDBOX) as client:
            trader = client.trader(Wallet.generate())
            trader.setup_account(fund=True)
            trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
            trader.place("FUEL/USDC", "Buy", "0.0126", "500", "Market")
            trader.place("FUEL/USDC", "Buy", "0.0120", "100")
            trader.withdraw("USDC", "1", nonce_kind="parallel")
            market = client.markets.get("FUEL/USDC")
            yield exchange, trader, market


def query(kinds: str, trader: Any, market: Any) -> dict:
    out: dict = {}
    if "m" in kinds:
        out["market_id"] = market.market_id
    if "a" in kinds:
        out["contract"] = trader.trade_account_id
    if "b" in kinds:
        out.update(asset_id=market.quote.asset, contract=trader.trade_account_id)
    if "o" in kinds:
        out["owner"] = trader.owner.address
    if "w" in kinds:
        out.update(trade_account_id=trader.trade_account_id, nonce_session_id="0")
    if "p" in kinds:
        out["market_pair"] = "FUEL_USDC"
    if "t" in kinds:
        out["ticker_id"] = "FUEL_USDC"
    if "mb" == kinds:
        out.update({"from": "0", "to": str(int(time.time() * 1000) + 1000), "resolution": "1h"})
    return out


PAGING = {"/v1/depth": {"precision": "10"}, "/v1/trades": {"direction": "desc", "count": "50"},
          "/v1/trades_by_account": {"direction": "desc", "count": "50"},
          "/v1/orders": {"direction": "desc", "count": "200"}}


@pytest.mark.parametrize("path,kinds", list(SHAPES), ids=[p for p, _ in SHAPES])
def test_every_read_endpoint_emits_the_official_shape(world, path, kinds):
    exchange, trader, market = world
    wanted = dict(query(kinds, trader, market), **PAGING.get(path, {}))  # what PROTOCOL §5 requires
    status, body, _ = exchange.handle("GET", path, wanted, {}, None)
    assert status == 200, body
    conforms(body, SHAPES[(path, kinds)])


def test_reverts_carry_no_code_and_pre_flight_errors_do(world):
    exchange, trader, market = world
    session = trader.session
    client = trader.client
    # a PostOnly that would take: it runs on chain and reverts
    prepared = client.session.prepare_actions(session, [{"market_id": market.market_id, "actions": [
        trader.create_order_action(market, "Buy", "0.0130", "10", post_only=True)]}])
    issued = trader.nonces.issuer(0).issue()
    body = client.session.signed_actions(session, prepared, nonce=o2lite.Nonce.parallel(issued.value))
    status, answer, _ = exchange.handle("POST", "/v1/session/actions", {}, {"O2-Owner-Id": trader.owner.address}, body)
    assert status == 400 and set(answer) == {"message", "reason", "receipts"}
    assert answer["message"].startswith("Revert(") and isinstance(answer["receipts"], list)
    # the same body again: its nonce is spent — a pre-flight refusal, with a code
    status, answer, _ = exchange.handle("POST", "/v1/session/actions", {}, {"O2-Owner-Id": trader.owner.address}, body)
    assert answer == {"code": 1001, "message": "Parallel nonce is not usable: nonce already used"}
    # through o2lite: the revert is TransactionReverted with no code, the refusal NonceRejected
    with pytest.raises(o2lite.TransactionReverted) as info:
        trader.place(market, "Buy", "0.0130", "10", post_only=True, settle_first=False)
    assert info.value.code is None and info.value.reason


def test_faucet_errors_carry_error_and_message(world):
    exchange, trader, _ = world
    status, answer, _ = exchange.handle("POST", "/faucet", {}, {}, {"contract": trader.trade_account_id})
    assert status == 429 and answer["error"] == answer["message"] and "cooldown" in answer["message"]


def test_unknown_path_and_method(world):
    exchange = world[0]
    assert exchange.handle("GET", "/v1/nothing", {}, {}, None)[0] == 404
    status, body, headers = exchange.handle("DELETE", "/v1/markets", {}, {}, None)
    assert status == 405 and headers == {"Allow": "GET"} and body["code"] == 1001


@pytest.mark.parametrize("lookalike", ["\u0661", "\u00b2", "9" * 5000])  # "١" (== 1 to int()), "²", too long
def test_digit_lookalikes_are_parse_errors(world, lookalike):
    exchange, trader, market = world
    owner = {"O2-Owner-Id": trader.owner.address}
    prepared = trader.client.session.prepare_actions(trader.session, [{"market_id": market.market_id, "actions": [
        trader.create_order_action(market, "Buy", "0.0100", "10")]}])
    body = trader.client.session.signed_actions(trader.session, prepared, nonce=o2lite.Nonce.parallel(1))
    status, answer, _ = exchange.handle("POST", "/v1/session/actions", {}, owner, dict(body, parallel_nonce=lookalike))
    assert (status, answer["code"]) == (400, 1002) and "parallel_nonce" in answer["message"]
    withdraw = {"trade_account_id": trader.trade_account_id, "signature": {"Secp256k1": "0x" + "00" * 64},
                "to": {"Address": trader.owner.address}, "asset_id": market.quote.asset, "amount": lookalike,
                "nonce": "5"}
    status, answer, _ = exchange.handle("POST", "/v1/accounts/withdraw", {}, owner, withdraw)
    assert (status, answer["code"]) == (400, 1002) and "amount" in answer["message"]
    status, answer, _ = exchange.handle("GET", "/v1/trades", {"market_id": market.market_id, "direction": "desc",
                                                              "count": lookalike}, {}, None)
    assert (status, answer["code"]) == (400, 1001) and "count" in answer["message"]

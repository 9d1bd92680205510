"""o2lite.ccxt's pure parsers reproduce every official ccxt conformance fixture.

Fixtures: o2-exchange/sdks ``fixtures/ccxt/{raw,expected}/*.json`` (commits 1d350b6c68ec…,
e39c03b888ca…, 951b818fdbfd…; per file in ``tests/vectors/ccxt/README.md``), copied verbatim.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from o2lite.ccxt import (parse_balance, parse_market, parse_ohlcv, parse_order, parse_order_book, parse_ticker,
                         parse_trade, map_error)
from o2lite.ccxt import errors as ccxt_errors
from o2lite._answers import error_from_response
from o2lite.errors import O2ConnectionError, O2Error, SubmissionUnknown

FIXTURES = pathlib.Path(__file__).parent / "vectors" / "ccxt"


def load(kind: str, name: str):
    return json.loads((FIXTURES / kind / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def market():
    return parse_market(load("raw", "markets")[0])


def test_markets():
    expected = load("expected", "markets")
    parsed = [parse_market(raw) for raw in load("raw", "markets")]
    assert len(parsed) == len(expected) == 1
    for got, want in zip(parsed, expected):
        for key, value in want.items():
            if key == "minimumCost":
                assert got["limits"]["cost"]["min"] == value
            else:
                assert got[key] == value, key
        assert got["info"] == load("raw", "markets")[0]  # exact values stay in info
        assert got["maker"] is None and got["taker"] is None  # fee units are not published


def test_ticker(market):
    raw = load("raw", "ticker")
    got = parse_ticker(raw, market)
    for key, value in load("expected", "ticker").items():
        assert got[key] == value, key
    assert all(isinstance(got[k], float) for k in ("last", "bid", "ask", "baseVolume", "quoteVolume"))
    assert got["timestamp"] is None and got["high"] is None and got["info"] == raw
    assert got["vwap"] == 1.5  # quote volume / base volume


def test_order_book(market):
    got = parse_order_book(load("raw", "orderbook"), market)
    assert got == load("expected", "orderbook")
    assert all(isinstance(x, float) for level in got["bids"] + got["asks"] for x in level)


def test_trades(market):
    raw, expected = load("raw", "trades"), load("expected", "trades")
    assert len(raw) == len(expected) == 4
    for one, want in zip(raw, expected):
        got = parse_trade(one, market)
        assert {k: got[k] for k in want} == want
        assert got["timestamp"] == one["timestamp"] and got["datetime"].endswith("Z") and got["info"] == one
    roles = [parse_trade(one, market)["takerOrMaker"] for one in raw]
    assert roles == [None, "maker", "taker", None]  # the self-trade keeps its role in info only


def test_ohlcv():
    raw, expected = load("raw", "ohlcv"), load("expected", "ohlcv")
    assert [parse_ohlcv(bar) for bar in raw] == expected


def test_balances(market):
    got = parse_balance(load("raw", "balances"), {market["symbol"]: market})
    for currency, want in load("expected", "balances").items():
        assert got[currency] == want
        assert {k: got[k][currency] for k in ("free", "used", "total")} == want
    assert got["info"] == load("raw", "balances")  # trading_account_balance (5) never added again


def test_orders(market):
    raw, expected = load("raw", "orders"), load("expected", "orders")
    for one, want in zip(raw, expected):
        got = parse_order(one, market)
        for key, value in want.items():
            assert got[key] == pytest.approx(value) if isinstance(value, float) else got[key] == value, key
        assert got["cost"] == 0.7 and got["info"] == one


def _native(case):
    """The failure each fixture case stands for: an o2lite error carrying the message, or a
    plain transport exception (what a lost socket raises under any client)."""
    if case["kind"] == "o2":
        return O2Error(case["message"])
    return ConnectionError(case["message"])


def test_errors():
    cases, expected = load("raw", "errors"), load("expected", "errors")
    assert {c["id"] for c in cases} == set(expected)
    for case in cases:
        native = _native(case)
        mapped = map_error(native, case["context"])
        assert type(mapped).__name__ == expected[case["id"]], case["id"]
        assert mapped.__cause__ is native


def test_error_fixture_cases_as_o2lite_raises_them():
    """The same cases in the form o2lite itself produces them: a revert body, a pre-send rule,
    a read that lost its connection, a signed request whose answer was lost."""
    revert = error_from_response(400, {"message": "Revert(18446744073709486080)",
                                       "reason": 'NotEnoughBalance; LogResult { results: [Ok("NotEnoughBalance")] }'})
    assert isinstance(map_error(revert, "private"), ccxt_errors.InsufficientFunds)
    fok = error_from_response(400, {"message": "Revert(1)", "reason": 'LogResult { results: [Ok("OrderNotFilled")] }'})
    assert isinstance(map_error(fok, "private"), ccxt_errors.InvalidOrder)
    post_only = error_from_response(400, {"message": "Revert(1)", "reason": "OrderPartiallyFilled: would take"})
    assert isinstance(map_error(post_only, "private"), ccxt_errors.InvalidOrder)
    assert isinstance(map_error(O2ConnectionError("socket closed"), "read"), ccxt_errors.NetworkError)
    lost = map_error(SubmissionUnknown("response lost", nonce=7), "private")
    assert isinstance(lost, ccxt_errors.O2AmbiguousSubmission) and lost.nonce == 7


def test_order_types_statuses_and_unknown_fields(market):
    base = load("raw", "orders")[0]
    cases = [({"order_type": "Spot"}, ("limit", "GTC", False)), ({"order_type": "FillOrKill"}, ("limit", "FOK", False)),
             ({"order_type": {"Limit": ["1500000", "1700000000"]}}, ("limit", "GTC", False)),
             ({"order_type": "Market"}, ("market", None, False)),
             ({"order_type": {"BoundedMarket": {"max_price": "2", "min_price": "1"}}}, ("market", None, False)),
             ({"order_type": "TurboSharedPostOnly", "margin": {"x": 1}}, ("limit", "PO", True))]
    for change, want in cases:
        got = parse_order(dict(base, **change), market)
        assert (got["type"], got["timeInForce"], got["postOnly"]) == want, change
    assert parse_order(dict(base, close=True, cancel=True), market)["status"] == "canceled"
    closed = parse_order(dict(base, close=True, quantity_fill="2000000000"), market)
    assert (closed["status"], closed["remaining"]) == ("closed", 0.0)
    fresh = parse_order(dict(base, price_fill="0", quantity_fill="0"), market)
    assert (fresh["average"], fresh["cost"]) == (None, 0.0)


def test_account_trades_without_trader_side_use_the_account(market):
    trade = dict(load("raw", "trades")[0], maker={"ContractId": "0x" + "aa" * 32}, taker={"ContractId": "0x" + "bb" * 32})
    assert parse_trade(trade, market, "0x" + "AA" * 32)["side"] == "buy"  # maker: the maker's side
    taker = parse_trade(trade, market, "0x" + "bb" * 32)
    assert (taker["side"], taker["takerOrMaker"]) == ("sell", "taker")
    assert parse_trade(trade, market, "0x" + "cc" * 32)["side"] == "sell"  # not ours: the public view


def test_parsers_refuse_what_they_cannot_read(market):
    with pytest.raises(O2Error, match="decimals are unknown"):
        parse_balance({"ETH": load("raw", "balances")["USDC"]}, [market])
    for bad in ({"trade_id": "t", "side": "sideways", "price": "1", "quantity": "1", "timestamp": 1},
                {"trade_id": "t", "side": "buy", "price": "-1", "quantity": "1", "timestamp": 1}):
        with pytest.raises(O2Error):
            parse_trade(bad, market)
    with pytest.raises(O2Error):
        parse_order_book({"bids": [["1"]]}, market)
    with pytest.raises(O2Error):
        parse_market({"market_id": "0x12"})


def test_a_callers_decimal_context_changes_nothing(market):
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec, ctx.rounding = 2, decimal.ROUND_FLOOR
        order = parse_order(dict(load("raw", "orders")[0], quantity="2000000001", quantity_fill="1999999999"), market)
        assert (order["cost"], order["remaining"]) == (2.7999999986, 2e-09)
        assert parse_ticker(dict(load("raw", "ticker"), quote_volume="1", base_volume="3"), market)["vwap"] == 1 / 3

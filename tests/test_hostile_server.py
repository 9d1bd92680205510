"""Every edge is a promise (issue #9): hostile or broken answers, from every endpoint.

- A fuzz test serves thousands of malformed answers (values of the wrong type, sign or width,
  truncated or non-JSON bodies, deep nesting, huge numbers, odd statuses) to every read endpoint
  and every signed call: o2lite returns a well-formed result or raises an ``O2Error`` — nothing
  else, and never slowly.
- A fault-injection test proves that every signed call reaches the server exactly once, and that
  an unclear outcome is ``SubmissionUnknown`` with the nonce.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from typing import Any, Callable, Dict, List, Tuple

import pytest
import requests
import responses

import o2lite
from o2lite import Wallet
from o2lite.encoding import Call, function_selector
from o2lite.session import TradeSession

from .conftest import MARKETS_BODY

URL = "http://hostile.test"
pytestmark = pytest.mark.filterwarnings("ignore::o2lite.ExperimentalWarning")
M1 = MARKETS_BODY["markets"][0]["market_id"]
ACCOUNT = "0x" + "cc" * 32
OWNER = Wallet("0x" + "71" * 32)
ORDER = {"order_id": "0x" + "01" * 32, "side": "buy", "order_type": "Spot", "price": "100", "price_fill": "0",
         "quantity": "5", "quantity_fill": "0", "timestamp": "1700000000000", "close": False,
         "partially_filled": False, "cancel": False}
TRADE = {"trade_id": "7", "side": "Sell", "price": "12500", "quantity": "10", "total": "125",
         "timestamp": "1700000000000", "maker": {"ContractId": ACCOUNT}, "taker": {"ContractId": "0x" + "dd" * 32}}

#: A valid answer for every path (the fuzz mutates one of them at a time).
VALID: Dict[str, Any] = {
    "/v1/markets": MARKETS_BODY,
    "/v1/markets/summary": {"market_id": M1, "high_price": "1", "low_price": "1", "last_price": "1",
                            "volume_24h": "1", "change_24h": "0"},
    "/v1/markets/ticker": [{"market_id": M1, "high": "1", "low": "1", "last": "1", "base_volume": "1"}],
    "/v1/depth": {"action": "snapshot", "market_id": M1,
                  "orders": {"buys": [{"price": "10", "quantity": "5"}], "sells": [["11", "6"]]}},
    "/v1/trades": {"trades": [TRADE], "market_id": M1},
    "/v1/trades_by_account": {"trades": [TRADE], "market_id": M1},
    "/v1/bars": [{"timestamp": "1700000000000", "open": "1", "high": "2", "low": "1", "close": "2",
                  "buy_volume": "3", "sell_volume": "4"}],
    "/v1/orders": {"identity": {"ContractId": ACCOUNT}, "market_id": M1, "orders": [ORDER]},
    "/v1/order": {"order": ORDER},
    "/v1/accounts": {"trade_account_id": ACCOUNT, "trade_account": {"nonce": "3", "owner": {"Address": OWNER.address}},
                     "session": {"session_id": {"Address": "0x" + "ee" * 32}, "expiry": "1800000000",
                                 "contract_ids": [MARKETS_BODY["markets"][0]["contract_id"]]}},
    "/v1/accounts/window": {"nonce_session_id": 0, "base": "0", "slots": [{"word_position": "0", "bitmap": "3"}]},
    "/v1/balance": {"order_books": {"0x" + "c1" * 32: {"locked": "1", "unlocked": "2"}}, "total_locked": "1",
                    "total_unlocked": "2", "trading_account_balance": "0"},
    "/v1/aggregated/assets": {"FUEL": {"name": "Fuel", "unified_cryptoasset_id": 1}},
    "/v1/aggregated/orderbook": {"timestamp": 1700000000000, "bids": [[0.0125, 100]], "asks": [[0.013, 5]]},
    "/v1/aggregated/summary": [{"trading_pairs": "FUEL_USDC", "last_price": 0.0125, "base_volume": 10}],
    "/v1/aggregated/ticker": {"FUEL_USDC": {"last_price": 0.0125, "base_volume": 10, "quote_volume": 1}},
    "/v1/aggregated/trades": [{"trade_id": 1, "price": 0.0125, "base_volume": 1, "quote_volume": 0.0125,
                               "timestamp": 1700000000000, "trade_type": "buy"}],
    "/analytics/v1/whitelist": {"success": True, "tradeAccount": ACCOUNT},
    "/analytics/v1/referral/code-info": {"valid": True, "ownerAddress": OWNER.address, "isActive": True},
    "/faucet": {"message": "minted"},
    "/v1/accounts/create": {"trade_account_id": ACCOUNT, "nonce": "0"},
    "/v1/session": {"tx_id": "0x" + "ab" * 32, "trade_account_id": ACCOUNT},
    "/v1/session/actions": {"tx_id": "0x" + "ab" * 32, "orders": [ORDER]},
    "/v1/accounts/withdraw": {"tx_id": "0x" + "ab" * 32},
    "/v1/accounts/upgrade": {"tx_id": "0x" + "ab" * 32},
    "/v1/accounts/calls": {"tx_id": "0x" + "ab" * 32},
}

SESSION = TradeSession(ACCOUNT, OWNER.address, Wallet("0x" + "72" * 32),
                       (MARKETS_BODY["markets"][0]["contract_id"],), 2**40, "parallel")
CALL = Call(b"\x01" * 32, function_selector("ping"), 0, bytes(32), 1000, None)


def _actions(c: o2lite.Client, nonce: Dict[str, Any]) -> Any:
    groups = [{"market_id": "FUEL/USDC", "actions": [{"CancelOrder": {"order_id": "0x" + "01" * 32}}]}]
    return c.session.actions(OWNER.address, c.session.actions_body(SESSION, groups, now=0, **nonce))


#: (answer path, method, call) for every read endpoint.
READS: List[Tuple[str, Callable[[o2lite.Client], Any]]] = [
    ("/v1/markets", lambda c: c.markets.info(refresh=True)),
    ("/v1/markets/summary", lambda c: c.markets.summary("FUEL/USDC")),
    ("/v1/markets/ticker", lambda c: c.markets.ticker("FUEL/USDC")),
    ("/v1/depth", lambda c: c.markets.depth("FUEL/USDC", limit=5)),
    ("/v1/trades", lambda c: c.markets.trades("FUEL/USDC")),
    ("/v1/trades_by_account", lambda c: c.markets.account_trades("FUEL/USDC", ACCOUNT)),
    ("/v1/bars", lambda c: c.markets.bars("FUEL/USDC", "1h", 0, 10**12)),
    ("/v1/orders", lambda c: c.orders.list("FUEL/USDC", ACCOUNT)),
    ("/v1/order", lambda c: c.orders.get("FUEL/USDC", "0x" + "01" * 32)),
    ("/v1/accounts", lambda c: c.accounts.get(owner=OWNER.address)),
    ("/v1/accounts/window", lambda c: c.accounts.nonce_window(ACCOUNT, 0)),
    ("/v1/balance", lambda c: c.accounts.balance("0x" + "d1" * 32, contract=ACCOUNT)),
    ("/v1/aggregated/assets", lambda c: c.aggregated.assets()),
    ("/v1/aggregated/orderbook", lambda c: c.aggregated.orderbook("FUEL_USDC")),
    ("/v1/aggregated/summary", lambda c: c.aggregated.summary()),
    ("/v1/aggregated/ticker", lambda c: c.aggregated.ticker()),
    ("/v1/aggregated/trades", lambda c: c.aggregated.trades("FUEL_USDC")),
    ("/analytics/v1/referral/code-info", lambda c: c.analytics.referral_info("ABC")),
]
#: (answer path, call) for every signed call — with the nonce each uses.
SIGNED: List[Tuple[str, Callable[[o2lite.Client], Any]]] = [
    ("/v1/session", lambda c: c.session.create(OWNER, ACCOUNT, Wallet("0x" + "73" * 32),
                                               [MARKETS_BODY["markets"][0]["contract_id"]], 2**31, nonce=4)),
    ("/v1/session/actions", lambda c: _actions(c, {"nonce": 5})),
    ("/v1/session/actions", lambda c: _actions(c, {"nonce": o2lite.Nonce.parallel(6)})),
    ("/v1/accounts/withdraw", lambda c: c.accounts.withdraw(OWNER, ACCOUNT, "0x" + "d1" * 32, 10, nonce=7)),
    ("/v1/accounts/withdraw", lambda c: c.accounts.withdraw(OWNER, ACCOUNT, "0x" + "d1" * 32, 10,
                                                            nonce=o2lite.Nonce.parallel(8))),
    ("/v1/accounts/upgrade", lambda c: c.accounts.upgrade(OWNER, ACCOUNT, 9)),
    ("/v1/accounts/calls", lambda c: c.accounts.owner_calls(OWNER, ACCOUNT, [CALL], nonce=o2lite.Nonce.parallel(10))),
]
NONCES = [4, 5, 6, 7, 8, 9, 10]

HOSTILE_VALUES = [None, True, False, -1, -(2**70), 2**64, 2**70, 2**300, "1e99999999", "9" * 5000, "-5", "abc",
                  "", " ", "0x", "0x1", "0x" + "00" * 33, "0xzz", "NaN", "Infinity", "false", "true", 1.5, 0.1,
                  [], {}, [[[]]], {"a": {"b": {}}}, "x" * 20000, "\u0000", "１２３"]


def mutate(value: Any, rng: random.Random) -> Any:
    """Replace, drop or re-wrap one random node of a JSON value."""
    value = copy.deepcopy(value)
    nodes: List[Tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k in node:
                nodes.append((node, k))
                walk(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):
                nodes.append((node, i))
                walk(node[i])

    walk(value)
    if not nodes or rng.random() < 0.05:
        return rng.choice(HOSTILE_VALUES + [[value], {"data": value}])
    parent, key = rng.choice(nodes)
    roll = rng.random()
    if roll < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif roll < 0.25:
        parent[key] = [parent[key]]
    else:
        parent[key] = rng.choice(HOSTILE_VALUES)
    return value


def hostile_answer(valid: Any, rng: random.Random) -> Tuple[int, Dict[str, str], str]:
    """One malformed answer: a mutated body, a broken text, or an odd status."""
    roll = rng.random()
    headers = {"Content-Type": "application/json"}
    if roll < 0.6:
        body = json.dumps(mutate(valid, rng))
        for _ in range(rng.choice([0, 0, 1, 2])):
            body = json.dumps(mutate(json.loads(body), rng))
        return rng.choice([200, 200, 200, 201, 400, 404, 500]), headers, body
    text = json.dumps(valid)
    if roll < 0.7:
        return 200, headers, text[:rng.randrange(0, max(len(text), 1))]  # truncated
    if roll < 0.75:
        return 200, headers, "[" * rng.choice([40, 5000, 100_000]) + "]" * 3  # deep nesting
    if roll < 0.8:
        return 200, headers, '{"x": ' + "1" * rng.choice([200, 5000, 200_000]) + "}"  # huge number
    if roll < 0.85:
        return rng.choice([200, 502, 503]), {"Content-Type": "text/html"}, "<html>bad gateway</html>"
    if roll < 0.9:
        return 200, headers, bytes(rng.randrange(256) for _ in range(50)).decode("latin-1")
    if roll < 0.95:
        headers["Retry-After"] = rng.choice(["nan", "-5", "1e999", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", "soon",
                                             "999999999999"])
        return rng.choice([429, 503]), headers, json.dumps({"code": 1003, "message": "slow down"})
    return rng.choice([204, 301, 302, 307, 308]), {"Location": URL + "/elsewhere"}, ""


class Server:
    """A `responses` callback answering every path with VALID, except one path it is told to break."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.target = ""
        self.answer: Tuple[int, Dict[str, str], str] = (200, {}, "")
        self.hits: Dict[str, int] = {}
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, re.compile(re.escape(URL) + r"/.*"), callback=self)

    def __call__(self, request: Any) -> Tuple[int, Dict[str, str], str]:
        path = request.path_url.split("?")[0]
        if request.method == "POST" and path == "/v1/accounts":
            path = "/v1/accounts/create"
        self.hits[path] = self.hits.get(path, 0) + 1
        if path == self.target:
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer
        if path not in VALID:
            return 404, {"Content-Type": "application/json"}, json.dumps({"code": 1001, "message": "no route"})
        return 200, {"Content-Type": "application/json"}, json.dumps(VALID[path])


@pytest.fixture
def server():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Server(rsps)


@pytest.fixture
def client(server):
    with o2lite.Client(URL, sleep=lambda s: None, retries=2) as c:
        c.markets.info()
        yield c


def test_valid_answers_parse(client, server):
    for path, call in READS + SIGNED:
        server.target = ""
        call(client)


def test_fuzzed_answers_raise_only_o2errors(client, server):
    """3,000 malformed answers over every read endpoint and signed call."""
    rng = random.Random(9)
    targets = READS + SIGNED
    started = time.monotonic()
    outcomes = {"ok": 0, "error": 0, "unknown": 0}
    for i in range(3000):
        path, call = targets[i % len(targets)]
        server.target = path
        server.answer = hostile_answer(VALID[path], rng)
        t0 = time.monotonic()
        try:
            call(client)
            outcomes["ok"] += 1
        except o2lite.SubmissionUnknown as exc:
            assert exc.nonce in NONCES and exc.nonce_kind in ("sequential", "parallel")
            outcomes["unknown"] += 1
        except o2lite.O2Error as exc:
            assert isinstance(exc.message, str) and len(str(exc)) < 2000
            outcomes["error"] += 1
        assert time.monotonic() - t0 < 2.0, f"{path} took too long on {server.answer!r:.200}"
    assert time.monotonic() - started < 60
    assert min(outcomes.values()) > 50, outcomes


@pytest.mark.parametrize("value", ["1e99999999", "9" * 4000, "0x" + "f" * 5000, 10**400, "1E+999"],
                         ids=["exp-string", "digits", "hex", "json-number", "exp-upper"])
def test_huge_integers_are_refused_fast(client, server, value):
    server.target = "/v1/balance"
    server.answer = (200, {}, json.dumps(dict(VALID["/v1/balance"], total_locked=value)))
    started = time.monotonic()
    with pytest.raises(o2lite.O2Error, match="total_locked|a number of 401") as info:
        client.accounts.balance("0x" + "d1" * 32, contract=ACCOUNT)
    assert time.monotonic() - started < 0.5 and info.value.status == 200


@pytest.mark.parametrize("field,value,message", [
    ("close", "false", None), ("close", "maybe", "close"), ("price", "-5", "price"), ("price", str(2**64), "price"),
    ("order_id", "0x1", "order_id"), ("order_id", "0x" + "00" * 33, "order_id"), ("side", "up", "side"),
    ("quantity", 1.5, "quantity"),
])
def test_wrong_values_are_errors_not_silent(client, server, field, value, message):
    server.target = "/v1/order"
    server.answer = (200, {}, json.dumps({"order": dict(ORDER, **{field: value})}))
    if message is None:
        assert client.orders.get("FUEL/USDC", "0x" + "01" * 32).is_open  # "false" is false, not truthy
        return
    with pytest.raises(o2lite.O2Error, match=message):
        client.orders.get("FUEL/USDC", "0x" + "01" * 32)


FAULTS = [
    ("timeout after sending", requests.ReadTimeout("read timed out"), o2lite.SubmissionUnknown),
    ("reset after sending", requests.ConnectionError("Connection reset by peer"), o2lite.SubmissionUnknown),
    ("502", (502, {}, "<html>bad gateway</html>"), o2lite.SubmissionUnknown),
    ("504", (504, {}, json.dumps({"message": "gateway timeout"})), o2lite.SubmissionUnknown),
    ("truncated 200", (200, {}, '{"tx_id": "0x' + "ab" * 10), o2lite.SubmissionUnknown),
    ("non-JSON 200", (200, {}, "OK"), o2lite.SubmissionUnknown),
    ("200 without tx_id", (200, {}, json.dumps({"status": "accepted"})), o2lite.SubmissionUnknown),
    ("200 with unreadable tx_id", (200, {}, json.dumps({"tx_id": {"x": 1}})), o2lite.SubmissionUnknown),
    ("307 redirect", (307, {"Location": URL + "/v2/elsewhere"}, ""), o2lite.O2Error),
    ("308 redirect", (308, {"Location": URL + "/v2/elsewhere"}, ""), o2lite.O2Error),
    ("revert", (400, {}, json.dumps({"message": "Revert(1)", "reason": "x", "receipts": []})),
     o2lite.TransactionReverted),
    ("429", (429, {"Retry-After": "nan"}, json.dumps({"code": 1003, "message": "slow"})), o2lite.RateLimited),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
@pytest.mark.parametrize("signed", range(len(SIGNED)), ids=[f"{p}#{i}" for i, (p, _) in enumerate(SIGNED)])
def test_every_signed_call_reaches_the_server_once(client, server, fault, signed):
    name, answer, expected = fault
    path, call = SIGNED[signed]
    server.target, server.answer = path, answer
    before = server.hits.get(path, 0)
    with pytest.raises(expected) as info:
        call(client)
    assert server.hits.get(path, 0) == before + 1, f"{name}: the signed request was sent more than once"
    assert server.hits.get("/v2/elsewhere", 0) == 0
    if expected is o2lite.SubmissionUnknown:
        assert info.value.nonce == NONCES[signed]
        assert info.value.nonce_kind == ("parallel" if signed in (2, 4, 6) else "sequential")
    if "redirect" in name:
        assert "/v2/elsewhere" in str(info.value) and not isinstance(info.value, o2lite.SubmissionUnknown)


def test_landed_with_unreadable_orders_returns_what_it_could(client, server):
    server.target = "/v1/session/actions"
    server.answer = (200, {}, json.dumps({"tx_id": "0x" + "ab" * 32, "orders": [ORDER, {"order_id": 5}]}))
    result = _actions(client, {"nonce": 5})
    assert result.tx_id == "0x" + "ab" * 32 and len(result.orders) == 1
    assert result.problems and "orders[1]" in result.problems[0] and result.raw["orders"][1] == {"order_id": 5}


@pytest.mark.parametrize("value,expected", [("2.5", 2.5), ("nan", None), ("inf", None), ("-4", 0.0),
                                            ("9e99", 60.0), ("garbage", None), (None, None)])
def test_retry_after_of_any_shape(value, expected):
    from o2lite.transport import retry_after_seconds

    assert retry_after_seconds(value) == expected


def test_retry_after_http_date():
    from o2lite.transport import retry_after_seconds

    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0


def test_oversized_answer_is_refused(client, server):
    server.target = "/v1/trades"
    server.answer = (200, {}, '{"trades": [' + ",".join([json.dumps(TRADE)] * 40000) + "]}")  # ~9 MB
    with pytest.raises(o2lite.O2Error, match="limit"):
        client.markets.trades("FUEL/USDC")


# "²".isdigit() is true and int("²") raises; "١".isdigit() is true and int("١") == 1; int() of
# 5000 digits raises on Python 3.11+. None of them is a number o2lite reads from someone else.
LOOKALIKES = ["²", "١", "9" * 5000, ""]


@pytest.mark.parametrize("text", LOOKALIKES, ids=["superscript", "arabic-indic", "5000 digits", "empty"])
def test_digit_lookalikes_are_not_numbers(text):
    from o2lite._parse import digits
    from o2lite._answers import error_from_response
    from o2lite.reverts import describe_revert

    assert digits(text) is None
    assert digits("0") == 0 and digits("18446744073709551615") == 2**64 - 1 and digits(" 7") is None
    error = error_from_response(400, {"code": text, "message": "refused"})
    assert isinstance(error, o2lite.O2Error) and error.code is None
    assert describe_revert("", [{"Revert": {"ra": text}}, {"type": "Revert", "ra": text}],
                           "Failed to process transaction") is None


@pytest.mark.parametrize("fee", ["²", "١", "9" * 5000])
def test_a_lookalike_fee_is_estimated_not_trusted(fee):
    from o2lite.fills import fill_of
    from o2lite.market import Market
    from o2lite.models import Trade

    market = Market.from_json(MARKETS_BODY["markets"][0])
    fill = fill_of(Trade.from_json(dict(TRADE, fee=fee)), market, ACCOUNT)
    assert fill is not None and fill.role == "maker" and fill.fee_estimated
    stated = fill_of(Trade.from_json(dict(TRADE, fee="42")), market, ACCOUNT)
    assert stated is not None and stated.fee == 42 and not stated.fee_estimated


def test_a_lookalike_content_length_is_not_trusted():
    from o2lite._http import read_capped

    class Answer:
        headers = {"Content-Length": "\u00b2"}

        def iter_content(self, size: int) -> List[bytes]:
            return [b'{"ok": true}']

    assert read_capped(Answer(), time.monotonic() + 5) == b'{"ok": true}'

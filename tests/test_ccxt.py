"""o2lite.ccxt's O2 exchange against the sandbox, end to end over loopback sockets, plus the
error mapping, the exchange-JSON normalisers and the market-order rules."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

import o2lite
from o2lite import Wallet
from o2lite.ccxt import (O2, ArgumentsRequired, AuthenticationError, BadRequest, BadSymbol, ExchangeError,
                         ExchangeNotAvailable, InsufficientFunds, InvalidOrder, NetworkError, NotSupported,
                         O2AmbiguousSubmission, OperationFailed, OrderNotFound, RateLimitExceeded, RequestTimeout,
                         human_bar, human_ticker, map_error, parse_ohlcv)
from o2lite.ccxt.order_args import limit_order_type, order_amount, order_price, protective_price
from o2lite.errors import (BatchIncomplete, NotFound, O2ConnectionError, O2Error, RateLimited, SessionInvalid,
                           SubmissionUnknown, TransactionReverted, ValidationError)
from o2lite.error_codes import ErrorCode
from o2lite.market import Market
from o2lite.models import TxResult
from o2lite.sandbox import Sandbox

PAIR = "FUEL/USDC"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sx:
        yield sx


@pytest.fixture(scope="module")
def accounts(sandbox):
    """Two funded accounts (100 000 FUEL, 10 ETH, 10 000 USDC each), as O2 exchanges."""
    made = []
    with o2lite.Client(sandbox.url) as client:
        for _ in range(2):
            owner = Wallet.generate()
            client.trader(owner).setup_account(fund=True)
            made.append(O2({"url": sandbox.url, "privateKey": owner.private_key_hex()}))
    yield made
    for exchange in made:
        exchange.close()


def test_o2_against_the_sandbox(sandbox, accounts):
    a, b = accounts
    assert a._wallet.private_key_hex()[2:] not in repr(a) + str(a)  # noqa: SLF001
    # markets, ticker, book, balance
    markets = a.load_markets()
    assert a.symbols == ["ETH/USDC", PAIR] and a.id == "o2" and a.precisionMode == 2
    m = markets[PAIR]
    assert m["precision"] == {"amount": 3, "price": 6} and m["limits"]["cost"]["min"] == 0.1
    assert a.markets_by_id[m["id"]] is m and a.currencies["USDC"]["code"] == "USDC"
    ticker = a.fetch_ticker(PAIR)
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (0.0124, 0.0126, None)
    assert isinstance(ticker["timestamp"], int) and ticker["info"]["bid"] == "12400"
    book = a.fetch_order_book(PAIR, 2)
    assert book["bids"] == [[0.0124, 2000.0], [0.0123, 4000.0]] and book["asks"][0] == [0.0126, 2000.0]
    balance = a.fetch_balance()
    assert balance["FUEL"] == {"free": 100_000.0, "used": 0.0, "total": 100_000.0}
    assert balance["free"]["USDC"] == 10_000.0 and balance["info"]["USDC"]["total_unlocked"] == "10000000000"

    # a resting limit order, listed, then cancelled
    resting = a.create_order(PAIR, "limit", "buy", 100, 0.0121)
    assert (resting["status"], resting["type"], resting["timeInForce"]) == ("open", "limit", "GTC")
    assert (resting["price"], resting["amount"], resting["filled"], resting["remaining"]) == (0.0121, 100.0, 0.0, 100.0)
    sent = sandbox.exchange.orders[resting["id"]]  # what reached the exchange, in chain units
    assert (sent.side, sent.price, sent.quantity, sent.order_type) == ("Buy", 12_100, 100 * 10**9, "Spot")
    assert [o["id"] for o in a.fetch_open_orders(PAIR)] == [resting["id"]]
    assert a.fetch_balance()["used"]["USDC"] == 1.21
    canceled = a.cancel_order(resting["id"], PAIR)
    assert canceled["status"] == "canceled" and canceled["id"] == resting["id"]
    assert a.fetch_open_orders(PAIR) == [] and a.fetch_balance()["used"]["USDC"] == 0.0

    # a crossing order that fills, against our own counterparty
    maker = a.create_order(PAIR, "limit", "sell", 1000, 0.0125)
    assert maker["status"] == "open"
    taker = b.createOrder(PAIR, "limit", "buy", 1000, 0.0125)
    assert (taker["status"], taker["filled"], taker["remaining"], taker["average"], taker["cost"]) == \
        ("closed", 1000.0, 0.0, 0.0125, 12.5)
    filled = a.fetch_order(maker["id"], PAIR)
    assert (filled["status"], filled["filled"]) == ("closed", 1000.0)
    assert a.fetch_order(maker["id"])["id"] == maker["id"]  # found without a symbol too

    # trades and my trades: the public side is the taker's, mine is my own
    last = a.fetch_trades(PAIR)[-1]
    assert (last["side"], last["price"], last["amount"], last["cost"], last["takerOrMaker"]) == \
        ("buy", 0.0125, 1000.0, 12.5, None)
    mine_a, mine_b = a.fetch_my_trades(PAIR), b.fetchMyTrades(PAIR)
    assert [(t["side"], t["takerOrMaker"], t["amount"]) for t in mine_a] == [("sell", "maker", 1000.0)]
    assert [(t["side"], t["takerOrMaker"], t["id"]) for t in mine_b] == [("buy", "taker", last["id"])]
    assert a.fetch_my_trades(PAIR, since=last["timestamp"] + 1) == []

    # OHLCV, then the ticker and balances after the fill
    bars = a.fetch_ohlcv(PAIR, "1m")
    assert bars and bars[-1][1:] == [0.0125, 0.0125, 0.0125, 0.0125, 1000.0] and bars[-1][0] % 60_000 == 0
    assert a.fetchOHLCV(PAIR, "1m", since=bars[-1][0], limit=1) == bars[-1:]
    after = a.fetch_ticker(PAIR)
    assert (after["last"], after["close"], after["baseVolume"], after["quoteVolume"]) == (0.0125, 0.0125, 1000.0, 12.5)
    balance_a, balance_b = a.fetch_balance(), b.fetch_balance()
    assert balance_a["total"]["FUEL"] == 99_000.0 and balance_a["total"]["USDC"] == 10_012.5
    assert balance_b["total"]["FUEL"] == 101_000.0 and balance_b["total"]["USDC"] == 9_987.5

    # errors: unknown symbol, below the minimum (refused before sending), a revert
    with pytest.raises(BadSymbol):
        a.fetch_ticker("NOPE/USDC")
    with pytest.raises(BadSymbol):
        a.create_order("NOPE/USDC", "limit", "buy", 1, 1)
    orders_before = len(sandbox.exchange.orders)
    with pytest.raises(InvalidOrder, match="minimum") as below:
        a.create_order(PAIR, "limit", "buy", 1, 0.0125)
    assert isinstance(below.value.__cause__, ValidationError) and len(sandbox.exchange.orders) == orders_before
    with pytest.raises(ExchangeError) as reverted:  # the maker order is filled: cancelling it reverts
        a.cancel_order(maker["id"], PAIR)
    assert isinstance(reverted.value.__cause__, TransactionReverted)
    assert not isinstance(reverted.value, (InvalidOrder, OperationFailed))
    with pytest.raises(InvalidOrder) as post_only:  # a PostOnly buy above the best ask would take
        a.create_order(PAIR, "limit", "buy", 100, 0.0127, {"postOnly": True})
    assert isinstance(post_only.value.__cause__, TransactionReverted)
    with pytest.raises(BadRequest, match="order id"):
        a.cancel_order("0x12", PAIR)
    with pytest.raises(OrderNotFound):
        a.fetch_order("0x" + "ab" * 32)
    with pytest.raises(InsufficientFunds):
        a.create_order(PAIR, "limit", "sell", 1_000_000, 0.02)


def test_market_orders_cancel_all_and_withdraw(sandbox, accounts):
    a, b = accounts
    bought = b.create_market_buy_order(PAIR, 100)  # FillOrKill capped at best ask × 1.05
    assert (bought["type"], bought["status"], bought["filled"], bought["average"]) == ("market", "closed", 100.0, 0.0126)
    assert bought["price"] == 0.01323
    sent = sandbox.exchange.orders[bought["id"]]
    assert (sent.side, sent.price, sent.quantity, sent.order_type) == ("Buy", 13_230, 100 * 10**9, "FillOrKill")
    trades = a.fetch_trades(PAIR)
    assert len(trades) >= 2 and [t["timestamp"] for t in trades] == sorted(t["timestamp"] for t in trades)
    assert a.fetch_trades(PAIR, limit=1)[0]["timestamp"] == trades[-1]["timestamp"]  # the newest
    assert a.fetch_trades(PAIR, trades[0]["timestamp"], 1)[0]["timestamp"] == trades[0]["timestamp"]  # from since
    with pytest.raises(InvalidOrder):  # cannot fill completely above the given floor: reverts
        b.create_order(PAIR, "market", "sell", 100, None, {"minPrice": 0.05})
    placed = [a.create_limit_buy_order(PAIR, 100, price) for price in (0.0110, 0.0111)]
    canceled = a.cancel_all_orders(PAIR)
    assert sorted(o["id"] for o in canceled) == sorted(o["id"] for o in placed)
    assert {o["status"] for o in canceled} == {"canceled"} and a.fetch_open_orders() == []
    assert len(a.fetch_closed_orders(PAIR)) >= 3 and len(a.fetch_orders(PAIR, limit=2)) == 2
    owner = Wallet(a._wallet.private_key_hex()).address  # noqa: SLF001 - the test knows the key
    withdrawal = a.withdraw("USDC", 1.5, owner)
    assert withdrawal["status"] == "ok" and withdrawal["amount"] == 1.5 and withdrawal["txid"]
    usdc = a.currencies["USDC"]["id"]
    assert sandbox.exchange.wallets[owner][usdc] == 1_500_000


def test_a_lost_answer_is_ambiguous_never_a_network_error(sandbox, accounts, monkeypatch):
    a, _ = accounts

    def lost(*args, **kwargs):
        raise SubmissionUnknown("no answer after sending", nonce=41, nonce_kind="sequential")

    monkeypatch.setattr(o2lite.trader.Trader, "place", lost)
    try:
        a.create_order(PAIR, "limit", "buy", 100, 0.0121)
    except NetworkError:  # a generic retry loop's catch
        pytest.fail("a lost signed order must not look retryable")
    except O2AmbiguousSubmission as exc:
        assert exc.nonce == 41 and isinstance(exc, OperationFailed) and isinstance(exc.__cause__, SubmissionUnknown)
    else:
        pytest.fail("no error raised")
    monkeypatch.setattr(o2lite.trader.Trader, "place", lambda *a, **k: TxResult("0xabc"))
    with pytest.raises(O2AmbiguousSubmission, match="named no order") as unnamed:
        a.create_order(PAIR, "limit", "buy", 100, 0.0121)
    assert unnamed.value.transaction_id == "0xabc"


def test_private_calls_need_a_key_and_an_account(sandbox):
    with O2({"url": sandbox.url}) as public:
        assert public.fetch_order_book(PAIR)["symbol"] == PAIR
        with pytest.raises(AuthenticationError, match="privateKey"):
            public.fetch_balance()
    with O2({"url": sandbox.url, "privateKey": Wallet.generate().private_key_hex()}) as stranger:
        with pytest.raises(AuthenticationError, match="no trade account"):
            stranger.fetch_open_orders(PAIR)


def test_arguments_are_checked_before_any_request():
    ex = O2({"url": "http://127.0.0.1:9"})  # nothing listens there: any request would fail differently
    for config, match in [({"url": "x", "network": "testnet"}, "not both"), ({"apiKey": "k"}, "unknown"),
                          ({"timeout": -1}, "milliseconds"), ({"options": {"x": 1}}, "marketSlippage"),
                          ({"privateKey": "0x12"}, "32 bytes")]:
        with pytest.raises(BadRequest, match=match):
            O2(config)
    assert "privateKey" not in repr(ex) and repr(ex) == "O2('http://127.0.0.1:9')"
    with pytest.raises(NotSupported):
        ex.fetch_ticker(PAIR, {"foo": 1})
    with pytest.raises(BadRequest, match="tradeAccountId"):
        O2({"tradeAccountId": "0x12"})
    with O2({}, client=o2lite.Client("http://127.0.0.1:9", retries=1)) as unreachable:
        with pytest.raises(NetworkError) as failed:  # the first real read fails as a network error
            unreachable.load_markets()
        assert isinstance(failed.value.__cause__, O2ConnectionError)


def test_order_arguments():
    m = Market.from_json({"contract_id": "0x" + "01" * 32, "market_id": "0x" + "02" * 32, "min_order": "100000",
                          "base": {"symbol": "FUEL", "asset": "0x" + "03" * 32, "decimals": 9, "max_precision": 3},
                          "quote": {"symbol": "USDC", "asset": "0x" + "04" * 32, "decimals": 6,
                                    "max_precision": 4}})
    assert order_amount(0.1, m) == Decimal("0.1") and order_amount(1.23456, m) == Decimal("1.234")
    assert order_price(0.01235, m) == Decimal("0.0124") and order_price("2", m) == Decimal("2.0000")
    for bad in (0, -1, float("nan"), float("inf"), True, None, "x", 0.0001):
        with pytest.raises(InvalidOrder):
            order_amount(bad, m)
    assert [limit_order_type(p) for p in ({}, {"timeInForce": "po"}, {"postOnly": True}, {"timeInForce": "FOK"})] == \
        ["Spot", "PostOnly", "PostOnly", "FillOrKill"]
    with pytest.raises(NotSupported):
        limit_order_type({"timeInForce": "IOC"})
    with pytest.raises(InvalidOrder):
        limit_order_type({"postOnly": True, "timeInForce": "FOK"})
    slip = Decimal("0.05")
    assert protective_price("buy", None, {}, m, Decimal("0.0126"), slip) == (Decimal("0.0132"), "best price × 1.05")
    assert protective_price("sell", None, {}, m, Decimal("0.0124"), slip)[0] == Decimal("0.0118")
    assert protective_price("buy", 0.5, {"maxPrice": 0.01}, m, None, slip) == (Decimal("0.0100"), "params.maxPrice")
    assert protective_price("sell", 0.01234, {}, m, None, slip) == (Decimal("0.0124"), "price")
    with pytest.raises(ArgumentsRequired):
        protective_price("buy", None, {}, m, None, slip)


def test_map_error_classes_and_causes():
    cases = [
        (NotFound("Market not found", code=ErrorCode.MARKET_NOT_FOUND), "read", BadSymbol),
        (NotFound("Order not found", code=ErrorCode.ORDER_NOT_FOUND), "read", OrderNotFound),
        (NotFound("Account not found", code=ErrorCode.ACCOUNT_NOT_FOUND), "read", AuthenticationError),
        (SessionInvalid("Expired session"), "private", AuthenticationError),
        (RateLimited("slow down", status=429, retry_after=2.0), "private", RateLimitExceeded),
        (O2Error("bad gateway", status=502), "read", ExchangeNotAvailable),
        (O2Error("unavailable", status=503), "private", O2AmbiguousSubmission),  # coded 5xx: may have run
        (O2Error("unavailable", status=503, method="GET"), "private", ExchangeNotAvailable),  # a read: retryable
        (O2ConnectionError("api did not answer in time (read timeout)"), "read", RequestTimeout),
        (O2ConnectionError("connection refused"), "private", NetworkError),  # proven unsent: retryable
        (TimeoutError("timed out"), "read", RequestTimeout),
        (ValidationError("unknown market 'X/Y'"), "read", BadSymbol),
        (ValidationError("limit must be 1-50"), "read", BadRequest),
        (ValueError("something else"), "read", ExchangeError),
    ]
    for exc, context, cls in cases:
        mapped = map_error(exc, context)
        assert type(mapped) is cls and mapped.__cause__ is exc, (exc, cls)
    assert map_error(RateLimited("x", retry_after=2.0)).retry_after == 2.0
    sent = O2ConnectionError("reset by peer")
    sent.may_have_landed = True  # what o2lite sets when a write's bytes may have left
    assert type(map_error(sent, "private")) is O2AmbiguousSubmission
    assert type(map_error(sent, "read")) is NetworkError
    partial = BatchIncomplete("2 of 3 sent", cause=SubmissionUnknown("lost", nonce=9))
    assert type(map_error(partial, "private")) is O2AmbiguousSubmission and map_error(partial, "private").nonce == 9
    already = InvalidOrder("x")
    assert map_error(already) is already
    assert not issubclass(O2AmbiguousSubmission, NetworkError) and issubclass(RateLimitExceeded, NetworkError)
    with pytest.raises(ValueError):
        map_error(O2Error("x"), "write")


def test_normalisers_scale_the_exchanges_chain_integers():
    m = Market.from_json({"contract_id": "0x" + "01" * 32, "market_id": "0x" + "02" * 32,
                          "base": {"symbol": "FUEL", "asset": "0x" + "03" * 32, "decimals": 9, "max_precision": 3},
                          "quote": {"symbol": "USDC", "asset": "0x" + "04" * 32, "decimals": 6, "max_precision": 6}})
    rust = [{"market_id": "0x" + "02" * 32, "bid": "0", "bid_volume": "0", "ask": "12600", "ask_volume": "2000000000000",
             "last": "12500", "high": "12600", "low": "12400", "open": "12400", "change": "-100",
             "percentage": "-0.8", "base_volume": "1000000000000", "quote_volume": "12500000", "timestamp": "1700000000000"}]
    human = human_ticker(rust, m)
    assert (human["best_bid"], human["bid_volume"], human["best_ask"], human["ask_volume"]) == (None, None, "0.0126", "2000")
    assert (human["last_price"], human["change"], human["base_volume"], human["quote_volume"]) == \
        ("0.0125", "-0.0001", "1000", "12.5")
    fixture_shaped = {"last_price": "1.5", "best_bid": "1.4"}
    assert human_ticker(fixture_shaped, m) == fixture_shaped
    bar = {"timestamp": "1700000040000", "open": "12400", "high": "12600", "low": "12300", "close": "12500",
           "buy_volume": "1000000000", "sell_volume": "500000000"}
    assert human_bar(bar, m)["volume"] == "1.5"
    assert parse_ohlcv(bar, m) == [1700000040000, 0.0124, 0.0126, 0.0123, 0.0125, 1.5]
    with pytest.raises(O2Error):
        parse_ohlcv({"time": 1, "open": "1"})


def test_import_o2lite_does_not_load_the_ccxt_wing():
    code = "import sys, o2lite; print('o2lite.ccxt' in sys.modules, 'ccxt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_readme_ccxt_script_runs_offline(capsys):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
    blocks = [re.sub(r"^    ", "", b, flags=re.M)
              for b in re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", readme)]
    script = next(b for b in blocks if "from o2lite.ccxt import O2" in b)
    exec(compile(script, "README.rst", "exec"), {})
    assert capsys.readouterr().out.split() == ["0.0126", "True", "10000.0"]


@pytest.mark.parametrize("name", ["o2lite.ccxt", "o2lite.ccxt.errors", "o2lite.ccxt.exchange", "o2lite.ccxt.private",
                                  "o2lite.ccxt.parsers", "o2lite.ccxt.normalise", "o2lite.ccxt.order_args",
                                  "o2lite.ccxt.paging", "o2lite.ccxt.sessions"])
def test_everything_in_all_imports(name):
    import importlib

    module = importlib.import_module(name)
    assert module.__all__ and all(hasattr(module, attr) for attr in module.__all__)


HOSTILE = [None, True, -1, 0, float("nan"), float("inf"), "", "x" * 300, [], {}, b"\x00", object()]


def test_hostile_arguments_raise_ccxt_errors_only(sandbox, accounts):
    """Every public method, every argument position, a bounded set of bad values: the only
    exceptions are ccxt-style errors, and no bad order reaches the exchange."""
    a, _ = accounts
    calls = {
        "fetch_ticker": (PAIR,), "fetch_order_book": (PAIR, 5), "fetch_trades": (PAIR, None, 5),
        "fetch_ohlcv": (PAIR, "1m", None, 5), "fetch_open_orders": (PAIR, None, 5), "fetch_my_trades": (PAIR, None, 5),
        "create_order": (PAIR, "limit", "buy", 100, 0.0001), "withdraw": ("USDC", 1, "0x" + "00" * 31 + "01"),
        "cancel_order": ("0x" + "ab" * 32, PAIR), "fetch_order": ("0x" + "ab" * 32, PAIR),
    }
    orders_before, checked = len(sandbox.exchange.orders), 0
    for name, good in calls.items():
        method = getattr(a, name)
        for position in range(len(good) + 1):  # the last position is params
            for bad in HOSTILE:
                args = list(good) + [None] * (position + 1 - len(good))
                args[position] = bad
                if position == len(good) and bad is None:
                    continue  # params=None is valid
                try:
                    method(*args)
                except BaseException as exc:  # noqa: B902 - asserting the type below
                    assert isinstance(exc, o2lite.ccxt.BaseError), (name, position, bad, exc)
                checked += 1
    assert checked > 400
    assert len(sandbox.exchange.orders) == orders_before

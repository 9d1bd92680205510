"""A review of o2lite.ccxt: hostile server answers, odd numbers, threads. Each test names the
finding it pins."""

from __future__ import annotations

import copy
import json
import math
import numbers
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.ccxt import O2, BaseError, parse_ohlcv, parse_order, parse_ticker, parse_trade
from o2lite.ccxt.parsers import iso8601, parse_market
from o2lite.sandbox import Exchange

from .test_ccxt_fixtures import load

SANDBOX = "http://sandbox.test"
PAIR = "FUEL/USDC"


class MutatingExchange:
    """Serves every request from a sandbox :class:`Exchange`; ``mutate(path, payload)`` may
    rewrite a GET's answer before it is sent (a hostile server)."""

    def __init__(self, rsps: responses.RequestsMock, exchange: Exchange) -> None:
        self.exchange, self.mutate = exchange, None
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, re.compile(re.escape(SANDBOX) + r"/.*"), callback=self._serve)

    def _serve(self, request):
        url = urlsplit(request.url)
        body = json.loads(request.body) if request.body else None
        status, payload, headers = self.exchange.handle(request.method, url.path, dict(parse_qsl(url.query)),
                                                        request.headers, body)
        if self.mutate is not None and request.method == "GET":
            payload = self.mutate(url.path, payload)
        return status, headers, json.dumps(payload)


def _leaves(obj, path=()):
    """Every key path of a JSON value (the first item of each list stands for all)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, path + (key,))
    elif isinstance(obj, list) and obj:
        yield from _leaves(obj[0], path + (0,))
    if path:
        yield path


def _replaced(payload, leaf, value):
    """``payload`` with the value at ``leaf`` replaced (unchanged when that path is absent);
    the empty path replaces the whole answer."""
    if not leaf:
        return value
    out = copy.deepcopy(payload)
    cursor = out
    try:
        for step in leaf[:-1]:
            cursor = cursor[step]
        cursor[leaf[-1]]  # noqa: B018 - the path must exist
    except (KeyError, IndexError, TypeError):
        return payload
    cursor[leaf[-1]] = value
    return out


def _finite(value) -> bool:
    """No inf/nan float in a ccxt structure (``info`` is the server's own JSON)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for k, v in value.items() if k != "info")
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


HOSTILE_VALUES = [None, "", -1, 1.5, "x", [], {}, True, 10**15, 10**30, "1e400"]


def test_hostile_server_answers_raise_ccxt_errors_only():
    """Finding: a server timestamp past year 9999 (e.g. 10**15 ms) made fetch_trades,
    fetch_orders, fetch_my_trades, fetch_order and fetch_ticker raise a raw ValueError /
    OverflowError (datetime's), not a ccxt-style error. Every field of every answer a read
    uses, replaced by a bounded set of hostile values: only ccxt errors, never a non-finite float."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = MutatingExchange(rsps, Exchange())
        client = o2lite.Client(SANDBOX)
        owners = [Wallet.generate() for _ in range(2)]
        for owner in owners:
            client.trader(owner).setup_account(fund=True)
        maker, taker = (O2({"privateKey": o.private_key_hex()}, client=client) for o in owners)
        maker.create_order(PAIR, "limit", "sell", 1000, 0.0125)
        taker.create_order(PAIR, "limit", "buy", 1000, 0.0125)
        resting = maker.create_order(PAIR, "limit", "buy", 100, 0.0110)
        reads = {
            "load_markets": lambda ex: ex.load_markets(True), "fetch_ticker": lambda ex: ex.fetch_ticker(PAIR),
            "fetch_order_book": lambda ex: ex.fetch_order_book(PAIR), "fetch_trades": lambda ex: ex.fetch_trades(PAIR),
            "fetch_ohlcv": lambda ex: ex.fetch_ohlcv(PAIR, "1m"), "fetch_balance": lambda ex: ex.fetch_balance(),
            "fetch_orders": lambda ex: ex.fetch_orders(PAIR), "fetch_my_trades": lambda ex: ex.fetch_my_trades(PAIR),
            "fetch_order": lambda ex: ex.fetch_order(resting["id"], PAIR),
        }
        key = owners[0].private_key_hex()

        def ready() -> O2:
            exchange = O2({"privateKey": key}, client=client)
            exchange.load_markets()
            exchange._trader()  # noqa: SLF001 - the account is found before the hostile answer
            return exchange

        escaped, calls = [], 0
        for name, read in reads.items():
            answers, server.mutate = {}, None
            exchange = ready()  # reads change nothing in it but the markets, which load_markets rebuilds
            server.mutate = lambda path, payload: answers.setdefault(path, payload)
            read(exchange)
            for path, answer in answers.items():
                for leaf in [(), *_leaves(answer)]:
                    for value in HOSTILE_VALUES:
                        server.mutate = (lambda p, payload, path=path, leaf=leaf, value=value:
                                         _replaced(payload, leaf, value) if p == path else payload)
                        calls += 1
                        try:
                            result = read(exchange)
                        except BaseError:
                            continue
                        except Exception as exc:  # noqa: BLE001 - what escaped is the finding
                            escaped.append((name, path, leaf, value, f"{type(exc).__name__}: {exc}"))
                            continue
                        if not _finite(result):
                            escaped.append((name, path, leaf, value, "non-finite float"))
        server.mutate = None
        client.close()
    assert calls > 500
    assert escaped == []


@pytest.mark.parametrize("ms", [10**15, 2**64, 10**30])
def test_timestamps_beyond_datetime_leave_datetime_none(ms):
    """Finding: parse_trade / parse_order / parse_ticker raised datetime's ValueError (or an
    OverflowError/OSError) for a timestamp past year 9999. As ccxt's own ``iso8601`` does,
    ``datetime`` is ``None`` for a time it cannot write; the parsers raise nothing else."""
    market = parse_market(load("raw", "markets")[0])
    assert iso8601(ms) is None and iso8601(-1) is None
    assert parse_ticker({"last_price": "1.5", "timestamp": ms}, market)["datetime"] is None
    if ms < 2**64:  # a u64: the trade and order models accept it
        trade = parse_trade(dict(load("raw", "trades")[0], timestamp=ms), market)
        order = parse_order(dict(load("raw", "orders")[0], timestamp=ms), market)
        assert (trade["timestamp"], trade["datetime"], order["datetime"]) == (ms, None, None)
    assert iso8601(1700000000000) == "2023-11-14T22:13:20.000Z"


@pytest.mark.parametrize("huge", ["1e400", "-1e400", 10**400])
def test_numbers_beyond_float_are_unknown_not_infinite(huge):
    """Finding: a human-unit value beyond float's range (a hostile ``"1e400"``) became ``inf``
    in parse_ticker and parse_ohlcv. It is unreadable as a ccxt number: ``None`` in a ticker, a
    refused bar."""
    market = parse_market(load("raw", "markets")[0])
    ticker = parse_ticker({"last_price": huge, "best_bid": "1", "base_volume": huge, "quote_volume": "5"}, market)
    assert (ticker["last"], ticker["baseVolume"], ticker["vwap"], ticker["bid"]) == (None, None, None, 1.0)
    with pytest.raises(o2lite.O2Error):
        parse_ohlcv({"time": 1, "open": huge, "high": 1, "low": 1, "close": 1, "volume": 1})
    ratio = parse_ticker({"last_price": "1", "base_volume": "1e-300", "quote_volume": "1e300"}, market)
    assert (ratio["vwap"], ratio["baseVolume"], ratio["quoteVolume"]) == (None, 1e-300, 1e300)


class ReprFloat(float):
    """A float whose repr is not float's: numpy 2's ``float64`` prints ``np.float64(0.1)``."""

    def __repr__(self) -> str:
        return f"np.float64({float.__repr__(self)})"


class IndexInt:
    """An integer that is not an ``int`` (numpy's ``int64``): registered as Integral."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value


numbers.Integral.register(IndexInt)


def test_numpy_style_numbers_are_read_as_the_script_wrote_them():
    """Finding: a ``float`` subclass whose repr is not float's (numpy 2's ``np.float64``, what
    pandas hands a script) was refused as "not a number: 'np.float64(0.1)'", and an Integral
    that is not an ``int`` (``np.int64``) as "must be a number". Both are numbers ccxt takes."""
    from o2lite.ccxt.order_args import order_amount, order_price, to_decimal
    from o2lite.market import Market

    m = Market.from_json(load("raw", "markets")[0])
    assert to_decimal(ReprFloat(0.1), "amount") == to_decimal(0.1, "amount") == to_decimal("0.1", "amount")
    assert order_amount(ReprFloat(1.23456), m) == order_amount(1.23456, m)
    assert order_price(ReprFloat(1.5), m) == order_price(1.5, m)
    assert to_decimal(IndexInt(5), "amount") == 5
    with pytest.raises(o2lite.ccxt.InvalidOrder):
        to_decimal(IndexInt(-5), "amount")


@pytest.fixture(scope="module")
def sandbox():
    from o2lite.sandbox import Sandbox

    with Sandbox() as sx:
        yield sx


def _funded_key(sandbox) -> str:
    owner = Wallet.generate()
    with o2lite.Client(sandbox.url) as client:
        client.trader(owner).setup_account(fund=True)
    return owner.private_key_hex()


@pytest.fixture
def sessions_opened(monkeypatch):
    """Counts ``Trader.open_session`` calls (each one replaces the account's session on O2)."""
    opened = []
    original = o2lite.trader.Trader.open_session

    def counted(self, *args, **kwargs):
        opened.append(self.trade_account_id)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(o2lite.trader.Trader, "open_session", counted)
    return opened


def test_threads_sharing_one_o2_open_one_session(sandbox, sessions_opened):
    """Finding: four threads placing their first order on one O2 each opened a session, each
    replacing the last on O2: three of four orders failed with AuthenticationError ("Invalid
    session address"). The session is now opened once, under a lock."""
    import threading

    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    exchange.load_markets()
    start, placed, failed = threading.Barrier(4), [], []

    def place(i: int) -> None:
        start.wait()
        try:
            placed.append(exchange.create_order(PAIR, "limit", "buy", 100, 0.0100 + i / 10_000)["id"])
        except BaseError as exc:
            failed.append(exc)

    threads = [threading.Thread(target=place, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failed == [] and len(set(placed)) == 4 and len(sessions_opened) == 1
    assert sorted(o["id"] for o in exchange.fetch_open_orders(PAIR)) == sorted(placed)
    exchange.close()


def test_two_o2_of_one_account_share_its_session(sandbox, sessions_opened):
    """Finding: the README's "one O2 per thread" broke when the threads share an account: O2
    keeps one session per account, so each O2 replaced the other's and every other call failed
    with AuthenticationError. The O2 instances of one account in one process share its session."""
    key = _funded_key(sandbox)
    first, second = O2({"url": sandbox.url, "privateKey": key}), O2({"url": sandbox.url, "privateKey": key})
    for _ in range(3):
        for exchange in (first, second):
            exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
    assert len(sessions_opened) == 1 and len(first.fetch_open_orders(PAIR)) == 6
    assert first.cancel_all_orders(PAIR) and second.fetch_open_orders(PAIR) == []
    first.close()
    second.close()


def test_two_traders_of_one_account_share_the_next_sequential_nonce():
    """Finding (o2lite core, met through two O2 of one account): the account lock is shared by
    every Trader of the process but the cached next nonce was each Trader's own, so after one
    Trader's send the other signed a stale nonce and was refused (NonceRejected)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        MutatingExchange(rsps, Exchange())
        with o2lite.Client(SANDBOX) as client:
            owner = Wallet.generate()
            first = client.trader(owner)
            first.setup_account(fund=True)
            first.open_session([PAIR])
            second = client.trader(owner)
            second.session = first.session
            for _ in range(2):
                for trader in (first, second):
                    trader.place(PAIR, "Buy", "0.0100", "100")
            assert len(first.open_orders(PAIR)) == 4


def test_a_lost_session_answer_leaves_the_order_unsent_and_retryable(sandbox, monkeypatch):
    """Finding: when opening the session (the first signing call's first step) got no answer,
    create_order raised O2AmbiguousSubmission — "the order may have landed" — though the order
    was never sent. Nothing of the call is pending: a NetworkError (retrying is safe; the next
    call opens a fresh session), and the retry places the order once."""
    from o2lite.ccxt import NetworkError, O2AmbiguousSubmission
    from o2lite.errors import SubmissionUnknown

    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    original = o2lite.trader.Trader.open_session

    def lost(self, *args, **kwargs):
        original(self, *args, **kwargs)  # it landed, but its answer was lost
        self.session = None
        raise SubmissionUnknown("no answer after sending", nonce=0, nonce_kind="sequential")

    monkeypatch.setattr(o2lite.trader.Trader, "open_session", lost)
    orders_before = len(sandbox.exchange.orders)
    with pytest.raises(NetworkError, match="session") as failed:
        exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
    assert not isinstance(failed.value, O2AmbiguousSubmission) and isinstance(failed.value.__cause__, SubmissionUnknown)
    assert len(sandbox.exchange.orders) == orders_before
    monkeypatch.setattr(o2lite.trader.Trader, "open_session", original)
    placed = exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
    assert [o["id"] for o in exchange.fetch_open_orders(PAIR)] == [placed["id"]]
    exchange.cancel_all_orders(PAIR)
    exchange.close()


def test_a_landed_cancel_is_not_reported_as_a_failure(sandbox, monkeypatch):
    """Finding: cancel_order reads the order back after the cancel landed; when only that read
    failed, the landed cancel surfaced as a NetworkError, inviting a retry that reverts. The
    cancel's own outcome is returned: the order id with status ``canceled``."""
    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    placed = exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)

    def unreachable(*args, **kwargs):
        raise o2lite.errors.O2ConnectionError("connection refused")

    monkeypatch.setattr(exchange.client.orders, "get", unreachable)
    canceled = exchange.cancel_order(placed["id"], PAIR)
    assert (canceled["id"], canceled["status"], canceled["symbol"]) == (placed["id"], "canceled", PAIR)
    assert canceled["info"]["tx_id"] and sandbox.exchange.orders[placed["id"]].cancel
    exchange.close()


MISUSE = '''\
from decimal import Decimal
from o2lite.ccxt import O2
ex = O2({"network": "testnet"})
ex.create_order("FUEL/USDC", "limit", "buy", 1.5, 0.01)
ex.create_order("FUEL/USDC", "limit", "buy", "1.5", Decimal("0.01"), {"postOnly": True})
ex.create_market_buy_order("FUEL/USDC", 100)
ex.withdraw("USDC", 2, "0x" + "00" * 32)
ex.create_order("FUEL/USDC", "limit", "buy", None, 0.01)  # misuse
ex.create_limit_sell_order("FUEL/USDC", [1], 0.01)  # misuse
ex.withdraw("USDC", None, "0x00")  # misuse
'''


def test_mypy_strict_catches_a_missing_amount(tmp_path):
    """Finding: ``amount``/``price`` were typed ``Any``, so ``mypy --strict`` let
    ``create_order(…, None, 0.01)`` or a list amount through. They are ccxt's numbers now."""
    api = pytest.importorskip("mypy.api")  # CI installs mypy after the tests: skipped there
    script = tmp_path / "misuse.py"
    script.write_text(MISUSE)
    out, _, status = api.run(["--strict", "--cache-dir", str(tmp_path / "cache"), str(script)])
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines()
                      if line.startswith(str(script)) and ": error:" in line})
    misuse = [n for n, line in enumerate(MISUSE.splitlines(), 1) if line.endswith("# misuse")]
    assert status == 1 and flagged == misuse, out


@pytest.mark.parametrize("amount", [-1, 0, float("nan"), "abc", None])
def test_a_bad_withdrawal_amount_is_a_bad_request_not_an_invalid_order(amount):
    """Finding: ``withdraw("USDC", -1, …)`` raised InvalidOrder — a withdrawal is no order; a
    script catching InvalidOrder around its orders would catch it. It is a BadRequest, raised
    before any request."""
    from o2lite.ccxt import BadRequest, InvalidOrder

    exchange = O2({"url": "http://127.0.0.1:9", "privateKey": Wallet.generate().private_key_hex()})
    exchange.currencies = {"USDC": {"code": "USDC"}}
    exchange.markets = {PAIR: {}}  # loaded: nothing listens at the URL, so any request would fail differently
    with pytest.raises(BadRequest, match="amount") as refused:
        exchange.withdraw("USDC", amount, "0x" + "00" * 32)
    assert not isinstance(refused.value, InvalidOrder)


@pytest.mark.parametrize("config", ["testnet", 5, {1: 2}, {"url": ""}, {"url": "  "}, {"network": ""}])
def test_a_malformed_config_is_a_bad_request(config):
    """Finding: ``O2("testnet")`` raised a raw ValueError, ``O2(5)`` and ``O2({1: 2})`` a raw
    TypeError; and ``O2({"url": ""})`` (an unset environment variable) silently talked to
    mainnet. Each is a BadRequest at construction."""
    from o2lite.ccxt import BadRequest

    with pytest.raises(BadRequest):
        O2(config)


def test_a_coded_server_error_on_a_signed_write_is_ambiguous_not_retryable():
    """Finding: a signed POST answered ``HTTP 500 {"code": 1000, "message": "Internal error"}``
    — which o2lite core passes on as a plain O2Error, the API having answered — became
    ExchangeNotAvailable, a NetworkError, so a generic retry loop would resend an order that may
    have landed (an internal error can strike after the transaction left). On a signed request
    it is O2AmbiguousSubmission; on a GET (a read inside a private call) still retryable."""
    from o2lite._answers import error_from_response
    from o2lite.ccxt import ExchangeNotAvailable, NetworkError, O2AmbiguousSubmission, map_error

    body = {"code": 1000, "message": "Internal error"}
    for status in (500, 503):
        posted = error_from_response(status, body, method="POST", url=SANDBOX + "/v1/session/actions")
        assert type(posted) is o2lite.O2Error
        mapped = map_error(posted, "private")
        assert isinstance(mapped, O2AmbiguousSubmission) and not isinstance(mapped, NetworkError)
        assert type(map_error(posted, "read")) is ExchangeNotAvailable
        read = error_from_response(status, body, method="GET", url=SANDBOX + "/v1/accounts")
        assert type(map_error(read, "private")) is ExchangeNotAvailable


def test_every_method_has_claims_exists(sandbox):
    """Finding: ``has`` said createLimitOrder, createMarketOrder ("emulated") and
    createPostOnlyOrder, but O2 had none of those methods: a script that checks ``has`` first
    met an AttributeError. Each ``has`` entry that names a method now has it (both spellings),
    and the three place what ccxt's signatures say."""
    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    for name, supported in exchange.has.items():
        if supported and name not in ("spot", "margin", "swap", "future", "option"):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("o_h_l_c_v", "ohlcv")
            assert callable(getattr(exchange, name, None)) and callable(getattr(exchange, snake, None)), name
    limit = exchange.create_limit_order(PAIR, "buy", 100, 0.0100)
    post_only = exchange.createPostOnlyOrder(PAIR, "limit", "buy", 100, 0.0101)
    assert (limit["timeInForce"], post_only["timeInForce"], post_only["postOnly"]) == ("GTC", "PO", True)
    bought = exchange.create_market_order(PAIR, "buy", 100)
    assert (bought["type"], bought["status"], bought["filled"]) == ("market", "closed", 100.0)
    exchange.cancel_all_orders(PAIR)
    exchange.close()


def test_a_market_without_a_symbol_does_not_break_fetch_balance():
    """Finding: a market whose base has no symbol (fetch_markets leaves it out: ccxt keys by
    ``BASE/QUOTE``) still had its asset in the account's balances, and fetch_balance raised a
    raw O2Error ("no market names this currency"). That asset is left out; the rest is read
    with the decimals of the very asset each balance is of."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = MutatingExchange(rsps, Exchange())
        with o2lite.Client(SANDBOX) as client:
            owner = Wallet.generate()
            client.trader(owner).setup_account(fund=True)

        def blank_first_base(path, payload):
            if path != "/v1/markets":
                return payload
            first, *rest = payload["markets"]
            return dict(payload, markets=[dict(first, base=dict(first["base"], symbol="")), *rest])

        server.mutate = blank_first_base
        with O2({"privateKey": owner.private_key_hex()}, client=o2lite.Client(SANDBOX)) as exchange:
            balance = exchange.fetch_balance()
            assert "" not in balance and "" not in balance["free"]
            assert balance["USDC"] == {"free": 10_000.0, "used": 0.0, "total": 10_000.0}


def test_an_answer_about_another_market_is_refused():
    """Finding: a ticker, book or order list whose ``market_id`` names another market was
    returned under the asked symbol — another market's prices, silently. Each read refuses it
    (a single order fetched by id is labelled with the market it names)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = MutatingExchange(rsps, Exchange())
        client = o2lite.Client(SANDBOX)
        owner = Wallet.generate()
        client.trader(owner).setup_account(fund=True)
        exchange = O2({"privateKey": owner.private_key_hex()}, client=client)
        placed = exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
        other = exchange.market("ETH/USDC")["id"]

        def elsewhere(path, payload):
            if path == "/v1/markets" or not isinstance(payload, (dict, list)):
                return payload
            text = json.dumps(payload).replace(exchange.market(PAIR)["id"], other)
            return json.loads(text)

        server.mutate = elsewhere
        reads = [lambda: exchange.fetch_ticker(PAIR), lambda: exchange.fetch_order_book(PAIR),
                 lambda: exchange.fetch_open_orders(PAIR), lambda: exchange.cancel_all_orders(PAIR)]
        for read in reads:
            with pytest.raises(o2lite.ccxt.ExchangeError, match="another market"):
                read()
        assert exchange.fetch_order(placed["id"], PAIR)["symbol"] == "ETH/USDC"  # one order: labelled as it says
        server.mutate = None
        assert [o["id"] for o in exchange.fetch_open_orders(PAIR)] == [placed["id"]]  # nothing was cancelled
        assert exchange.fetch_ticker(PAIR)["symbol"] == PAIR
        client.close()


def test_a_landed_order_named_in_another_market_is_ambiguous(sandbox, monkeypatch):
    """The same check on create_order's answer: the order landed (a tx id) but the answer's
    order names another market, so which order is ours is unknown: O2AmbiguousSubmission with
    the transaction id (never a raw O2Error, never a definite failure)."""
    from o2lite.ccxt import O2AmbiguousSubmission
    from o2lite.models import Order, TxResult

    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    exchange.load_markets()
    foreign = Order.from_json(dict(load("raw", "orders")[0], market_id=exchange.market("ETH/USDC")["id"]), "test")
    monkeypatch.setattr(o2lite.trader.Trader, "place", lambda *a, **k: TxResult("0xfeed", orders=(foreign,)))
    with pytest.raises(O2AmbiguousSubmission, match="another market") as unreadable:
        exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
    assert unreadable.value.transaction_id == "0xfeed"
    exchange.close()


def test_fetch_order_without_a_symbol_labels_the_order_with_its_own_market(sandbox, monkeypatch):
    """Finding: when ``GET /v1/order`` answered an order of another market than the one asked
    (a server that finds orders by id alone), fetch_order(id) raised BadSymbol "O2 has no market
    ''". The order is labelled with the market it names."""
    import dataclasses

    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    placed = exchange.create_order(PAIR, "limit", "buy", 100, 0.0100)
    real = exchange.client.orders.get
    monkeypatch.setattr(exchange.client.orders, "get",
                        lambda market, order_id: dataclasses.replace(real(PAIR, order_id), market=None))
    for symbol in (None, "ETH/USDC"):
        found = exchange.fetch_order(placed["id"], symbol)
        assert (found["id"], found["symbol"], found["price"]) == (placed["id"], PAIR, 0.01)
    monkeypatch.undo()
    exchange.cancel_all_orders(PAIR)
    exchange.close()


def test_since_reads_back_through_orders_stamped_in_seconds():
    """Finding: the official order fixture stamps orders in Unix seconds (``1700000000``; the
    parsers turn it into ms), but the look-back for ``since`` compared that raw value with
    ``since`` in ms, so every order looked older: ``fetch_open_orders(symbol, since)`` gave []."""
    from types import SimpleNamespace

    from o2lite.ccxt.paging import back_to

    newest_first = [SimpleNamespace(timestamp=t) for t in (1700000002, 1700000001, 1699999999)]
    assert [i.timestamp for i in back_to(newest_first, 1700000001000)] == [1700000002, 1700000001]
    in_ms = [SimpleNamespace(timestamp=t * 1000) for t in (1700000002, 1700000001, 1699999999)]
    assert len(back_to(in_ms, 1700000001000)) == 2 and len(back_to(in_ms, None)) == 3


def test_a_market_orders_protective_price_never_comes_from_another_markets_book(sandbox, monkeypatch):
    """Finding: a market order's bound comes from the best opposite price; a depth answer naming
    another market (say ETH at 3000 USDC for a FUEL buy) gave a "protective" cap with no
    protection at all. The depth must be of the order's market; nothing is signed otherwise."""
    import dataclasses

    exchange = O2({"url": sandbox.url, "privateKey": _funded_key(sandbox)})
    exchange.load_markets()
    eth = exchange.market("ETH/USDC")["id"]
    real = exchange.client.markets.depth

    def elsewhere(m, precision=1, limit=None):
        return dataclasses.replace(real(m, precision, limit), market_id=eth)

    monkeypatch.setattr(exchange.client.markets, "depth", elsewhere)
    orders_before = len(sandbox.exchange.orders)
    with pytest.raises(o2lite.ccxt.ExchangeError, match="another market"):
        exchange.create_market_buy_order(PAIR, 100)
    assert len(sandbox.exchange.orders) == orders_before
    exchange.close()

"""One nonce state per (exchange, trade account) in the process (issue #20): Traders of one
account alternate and run concurrently without stale nonces; a stale refusal re-reads once and
re-signs once; no account waits for another account's network read."""

from __future__ import annotations

import itertools
import threading
from types import SimpleNamespace

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.errors import NonceRejected
from o2lite.nonce import Nonce, NonceWindow
from o2lite.nonce_tracks import NonceTracks, stale_database_nonce
from o2lite.sandbox import Exchange

from .exchange_mock import SANDBOX, ExchangeMock


@pytest.fixture
def exchange():
    return Exchange()


@pytest.fixture
def mock(exchange):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield ExchangeMock(rsps, exchange)


@pytest.fixture
def first(mock):
    """A funded trader with a sequential session, on its own client."""
    with o2lite.Client(SANDBOX) as client:
        trader = client.trader(Wallet.generate(), pacing=False)
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"])
        yield trader


@pytest.fixture
def second(first):
    """Another Trader of the same owner and account, on another Client: a second script's worth
    of objects in the same process."""
    with o2lite.Client(SANDBOX) as client:
        trader = client.trader(first.owner, pacing=False)
        assert trader.setup_account() == first.trade_account_id
        trader.session = first.session
        yield trader


def actions_nonces(mock):
    return [int(body["nonce"]) for _, _, body, _ in mock.posts("/v1/session/actions")]


def account_reads(mock):
    return len([s for s in mock.sent if s[0] == "GET" and s[1] == "/v1/accounts"])


def test_two_traders_of_one_account_alternate_without_stale_nonces(first, second, mock, exchange):
    first.settle("FUEL/USDC")
    reads, posts = account_reads(mock), len(actions_nonces(mock))
    for i in range(6):
        (first if i % 2 else second).place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
    sent = actions_nonces(mock)[posts:]
    assert len(sent) == 6, "a call was refused and re-signed: the Traders did not share one nonce"
    assert sent == list(range(sent[0], sent[0] + 6))
    assert account_reads(mock) == reads  # the shared nonce was known: no re-read at all
    assert len(first.open_orders("FUEL/USDC")) == 6


def test_two_traders_of_one_account_run_concurrently(first, second, mock, exchange):
    errors, placed = [], []

    def worker(trader):
        for i in range(8):
            try:
                placed.append(trader.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(placed) == 32
    sent = actions_nonces(mock)
    assert len(sent) == 32 and sorted(sent) == list(range(sent[0], sent[0] + 32))  # one POST each, no refusal
    assert exchange.accounts[first.trade_account_id]["nonce"] == sent[0] + 32


def test_a_stale_refusal_re_reads_once_and_re_signs_once(first, mock, exchange):
    first.settle("FUEL/USDC")  # the nonce is now known locally
    account = exchange.accounts[first.trade_account_id]
    account["nonce"] += 1  # another process of this account used the next nonce
    posts, reads = len(actions_nonces(mock)), account_reads(mock)
    result = first.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False)
    assert result.tx_id and len(result.orders) == 1
    stale, fresh = actions_nonces(mock)[posts:]
    assert fresh == stale + 1 == account["nonce"] - 1  # refused with N, re-signed with N + 1, which landed
    assert account_reads(mock) == reads + 1  # one re-read
    assert len(first.open_orders("FUEL/USDC")) == 1  # placed once: the refused request ran nothing


def test_a_second_stale_refusal_is_raised_never_a_third_send(first, mock, exchange, monkeypatch):
    first.settle("FUEL/USDC")
    account = exchange.accounts[first.trade_account_id]
    handle = exchange.handle

    def busy_elsewhere(method, path, *args):
        if path == "/v1/session/actions":
            account["nonce"] += 1  # the other process wins the race every time
        return handle(method, path, *args)

    monkeypatch.setattr(exchange, "handle", busy_elsewhere)
    posts = len(actions_nonces(mock))
    with pytest.raises(NonceRejected, match="less than the nonce in the database"):
        first.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False)
    assert len(actions_nonces(mock)) == posts + 2  # the first try and one re-signed try
    assert first.open_orders("FUEL/USDC") == []
    assert first.nonces.sequential_nonce is None  # re-read before the next call


def test_only_the_stale_sequential_refusal_is_re_signed():
    stale = NonceRejected("Nonce in the request(2) is less than the nonce in the database(3).", retryable=True)
    assert stale_database_nonce(stale) == 3
    for other in (NonceRejected("Parallel nonce is not usable: nonce already used"),
                  NonceRejected("Nonce in the request(4) is greater than the nonce in the database(3)."),
                  ValueError("less than the nonce in the database(3)")):
        assert stale_database_nonce(other) is None


# --- no account waits for another -------------------------------------------------------------

_EXCHANGES = itertools.count()


class SlowReads:
    """A client whose reads of one account block until released; every other account answers."""

    def __init__(self, slow_account: str) -> None:
        self.slow_account = slow_account
        self.release = threading.Event()
        self.entered = threading.Event()
        self.transport = SimpleNamespace(base_url=f"http://slow-reads-{next(_EXCHANGES)}.test")  # fresh state
        self.accounts = SimpleNamespace(nonce_window=self._window, get=self._get)

    def _wait(self, account: str) -> None:
        if account == self.slow_account:
            self.entered.set()
            assert self.release.wait(10), "never released"

    def _window(self, account: str, lane: int) -> NonceWindow:
        self._wait(account)
        return NonceWindow(lane, 0, {})

    def _get(self, *, trade_account_id: str) -> SimpleNamespace:
        self._wait(trade_account_id)
        return SimpleNamespace(nonce=7)


@pytest.mark.parametrize("track", ["parallel", "sequential"])
def test_one_slow_account_does_not_delay_another(track):
    slow, quick = "0x" + "5a" * 32, "0x" + "9b" * 32
    client = SlowReads(slow)
    slow_tracks = NonceTracks(client, lambda: slow)
    quick_tracks = NonceTracks(client, lambda: quick)
    blocked = threading.Thread(target=lambda: slow_tracks.draw(track, 0))
    blocked.start()
    try:
        assert client.entered.wait(5)  # the slow account's first read is in flight
        done = threading.Thread(target=lambda: quick_tracks.run(track, 0, lambda nonce: nonce))
        done.start()
        done.join(5)
        assert not done.is_alive(), "another account waited for the slow account's read"
    finally:
        client.release.set()
        blocked.join(5)


def test_sends_draw_nonce_values_and_dry_runs_draw_the_same():
    client = SlowReads("0x" + "00" * 32)
    tracks = NonceTracks(client, lambda: "0x" + "77" * 32)
    assert tracks.draw("sequential", 0) == Nonce.sequential(7)
    assert tracks.run("sequential", 0, lambda nonce: nonce) == Nonce.sequential(7)
    assert tracks.run("sequential", 0, lambda nonce: nonce) == Nonce.sequential(8)
    drawn = tracks.run("parallel", 3, lambda nonce: nonce)
    assert drawn.kind == "parallel" and drawn.field == "parallel_nonce"


# --- a resend after SubmissionUnknown must never be re-signed into a second order (review) ----------


def test_a_resend_refused_because_the_lost_request_landed_is_not_re_signed(first, mock, exchange, monkeypatch):
    """The documented recovery of a lost answer: reconcile says "not run yet, resending with the
    same nonce is safe", so the caller places the same order again. If the lost request lands
    just before the resend, the resend is refused as stale -- by our own landed request. It must
    not be re-signed with the next nonce: that would place the order twice."""
    import requests as requests_lib
    from o2lite.errors import SubmissionUnknown

    first.settle("FUEL/USDC")
    handle, held = exchange.handle, []

    def delayed(method, path, *args):
        if path == "/v1/session/actions" and not held and method == "POST":
            held.append(args)  # the lost request: still travelling, not yet run
            raise requests_lib.ReadTimeout("read timed out")
        if path == "/v1/session/actions" and len(held) == 1 and method == "POST":
            held.append(handle(method, path, *held[0]))  # the lost request lands first...
        return handle(method, path, *args)  # ...then the resend arrives

    monkeypatch.setattr(exchange, "handle", delayed)
    with pytest.raises(SubmissionUnknown) as info:
        first.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False)
    verdict = first.reconcile(info.value)
    assert verdict.landed is False and not verdict.final  # "resending with the same nonce is safe"
    posts = len(actions_nonces(mock))
    with pytest.raises(NonceRejected) as refused:
        first.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False)  # the resend
    assert not refused.value.retryable  # a retry would place the order a second time
    assert len(actions_nonces(mock)) == posts + 1  # the resend, never a re-signed copy
    assert len(first.open_orders("FUEL/USDC")) == 1  # the order exists once: the lost request's


def test_reconcile_knows_a_lost_request_was_superseded_by_a_later_send_of_its_nonce(first, second, mock, exchange,
                                                                                     monkeypatch):
    """After a lost answer the shared state re-reads the account and the next send -- here from
    another Trader of the account -- reuses the nonce the lost request carried. Once that send
    lands, the lost request can never run; reconcile must not call it landed."""
    import requests as requests_lib
    from o2lite.errors import SubmissionUnknown

    first.settle("FUEL/USDC")
    handle, held = exchange.handle, []

    def lost_in_flight(method, path, *args):
        if path == "/v1/session/actions" and method == "POST" and not held:
            held.append(args)  # never reaches the exchange's engine in time
            raise requests_lib.ReadTimeout("read timed out")
        return handle(method, path, *args)

    monkeypatch.setattr(exchange, "handle", lost_in_flight)
    with pytest.raises(SubmissionUnknown) as info:
        first.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False)
    other = second.place("FUEL/USDC", "Buy", "0.0110", "20", settle_first=False)  # a different order
    assert other.tx_id and actions_nonces(mock)[-1] == info.value.nonce  # the same nonce, now spent by it
    verdict = first.reconcile(info.value)
    assert verdict.landed is False and verdict.final, verdict
    status, answer, _ = handle("POST", "/v1/session/actions", *held[0])  # the lost one arrives late
    assert "less than the nonce in the database" in answer["message"]  # ...and can never run
    assert [o.quantity for o in first.open_orders("FUEL/USDC")] == [second.open_orders("FUEL/USDC")[0].quantity]


def test_one_exchange_spelled_two_ways_is_one_nonce_state_and_two_exchanges_are_two():
    """Traders of one account made with ``https://api.o2.app`` and ``HTTPS://API.O2.APP:443/``
    talk to the same exchange: they share one nonce state (one lock, one counter). Another host,
    scheme or path is another exchange (review of issue 20)."""
    from o2lite.nonce_tracks import account_nonces

    account = "0x" + "4c" * 32
    same = account_nonces("https://api.o2.app", account)
    assert account_nonces("HTTPS://API.O2.APP:443", account) is same
    assert account_nonces("https://Api.O2.app:443", account) is same
    assert account_nonces("http://sandbox.test:80", account) is account_nonces("http://SANDBOX.test", account)
    for other in ("https://api.testnet.o2.app", "http://api.o2.app", "https://api.o2.app:8443",
                  "https://api.o2.app/v2"):
        assert account_nonces(other, account) is not same

"""A reviewer's attacks on the streams (issue #19), each a reproduction of something that broke:
a handshake or frames that trickle, fragments that cost memory, failed subscriptions that stayed
held, a subscribe racing close(), errors taken for a healthy connection, a timeout that hung,
and a watch that missed an outage."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
import tracemalloc
from typing import Any, Dict, List, Optional

import pytest

import o2lite
from o2lite.streams import Reconnected, Stream
from o2lite.streams import frames as _ws
from o2lite.streams.connection import MAX_FAILURES

from .ws_server import MARKET, FrameServer, Peer, fake_client, trades_message


def until_closed(peer: Peer) -> None:
    """Read (and ignore) what the client sends until it closes the connection."""
    try:
        while peer.receive(timeout=10).opcode != _ws.OP_CLOSE:
            pass
    except (ConnectionError, OSError):
        pass


def eventually(condition: Any, rounds: int = 500) -> bool:
    """Poll ``condition`` up to ``rounds`` times, 10 ms apart (bounded by count)."""
    for _ in range(rounds):
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


class Listener:
    """A raw TCP listener whose connections run ``handle`` (no WebSocket handshake of its own)."""

    def __init__(self, handle: Any) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}/v1/ws"
        self.accepted: List[socket.socket] = []
        self.stop = threading.Event()
        self._handle = handle
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)
            threading.Thread(target=self._handle, args=(conn, self.stop), daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for conn in self.accepted:
            conn.close()


# --- the handshake: bounded as a whole, and cut by close() ------------------------------------------

def _trickle_handshake(conn: socket.socket, stop: threading.Event) -> None:
    """Answer the upgrade one byte every 20 ms: each byte comes well within any per-read timeout."""
    try:
        conn.recv(4096)
        for byte in b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: " + b"y" * 10_000:
            if stop.wait(0.02):
                return
            conn.sendall(bytes([byte]))
    except OSError:
        pass


def test_a_trickling_handshake_is_abandoned_after_connect_timeout():
    """Before: the handshake read header bytes for as long as each came within connect_timeout —
    16 KiB at one byte per 9 s is 41 hours in one attempt, no give-up, no reconnect."""
    server = Listener(_trickle_handshake)
    stream = Stream(fake_client(), url=server.url, connect_timeout=0.2, sleep=lambda s: None)
    try:
        stream.trades("FUEL/USDC")  # held: the first attempt is still under way
        assert eventually(lambda: len(server.accepted) >= 2)  # the first attempt was given up on
    finally:
        stream.close()
        server.close()


def _mute(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the TCP connection, read the upgrade request, answer nothing."""
    try:
        conn.recv(4096)
        stop.wait(30)
    except OSError:
        pass


def test_close_during_a_hanging_handshake_returns_at_once_and_ends_the_reader():
    """Before: close() waited its 5 s join for a reader stuck in the handshake, then returned with
    the thread still alive (until connect_timeout)."""
    server = Listener(_mute)
    stream = Stream(fake_client(), url=server.url, connect_timeout=30)
    subscriber = threading.Thread(target=lambda: stream.trades("FUEL/USDC"), daemon=True)
    subscriber.start()
    try:
        assert eventually(lambda: server.accepted)
        stream.close()
        reader = stream._connection._thread
        assert reader is not None and not reader.is_alive()
        subscriber.join(5)
        assert not subscriber.is_alive()
    finally:
        server.close()


def test_the_socket_of_a_slow_handshake_keeps_the_whole_timeout():
    """Before: the socket came back with what was left of the handshake's time as its timeout (a
    handshake that took 9.99 of 10 s left 10 ms) for the subscribe requests sent right after."""
    from urllib.parse import urlsplit

    from o2lite.streams.handshake import open_websocket

    server = FrameServer([until_closed])
    try:
        sock, _ = open_websocket(urlsplit(server.url), 30.0)
        assert sock.gettimeout() == 30.0
        sock.close()
    finally:
        server.close()


# --- frames that trickle or cost more than they carry -------------------------------------------

def test_empty_fragments_cost_no_memory():
    """Before: each empty continuation frame (2 bytes on the wire) added a list entry (8 bytes):
    a fragmented message that never ends grew without bound although it carried nothing."""
    reader = _ws.FrameReader(expect_masked=False, max_message=1 << 20)
    reader.feed(_ws.encode_frame(_ws.OP_TEXT, b"[", mask=False, fin=False))
    empty = _ws.encode_frame(_ws.OP_CONT, b"", mask=False, fin=False) * 10_000
    tracemalloc.start()
    try:
        for _ in range(10):  # 200 kB of frames carrying nothing (800 kB of list before)
            assert reader.feed(empty) == []
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert grown < 64 << 10, grown
    assert reader.feed(_ws.encode_frame(_ws.OP_CONT, b"]", mask=False)) == [(_ws.OP_TEXT, b"[]")]


def test_a_frame_that_trickles_forever_is_a_silent_peer():
    """Before: any byte refreshed the liveness clock, so a peer trickling one byte of a frame that
    never ends (a slow-loris, or a broken proxy) kept the stream "connected" and the book stale."""
    trickled: Dict[str, int] = {}
    done = threading.Event()

    def loris(peer: Peer) -> None:
        peer.receive_json()
        peer.raw(bytes([0x81, 126]) + (60_000).to_bytes(2, "big"))  # a 60 kB text frame, announced
        peer.sock.settimeout(0.01)
        for sent in range(1, 2000):  # one byte each 10 ms: at most 20 s, far past the 0.15 s bound
            peer.raw(b" ")
            try:
                data = peer.sock.recv(65536)
            except socket.timeout:
                continue
            if not data or any(m.opcode == _ws.OP_CLOSE for m in peer.reader.feed(data)):
                trickled["bytes"] = sent
                break
        done.set()
        peer.hang_up()

    def steady(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(1))
        until_closed(peer)

    server = FrameServer([loris, steady])
    with Stream(fake_client(), url=server.url, ping_interval=0.05, liveness=0.15, sleep=lambda s: None) as stream:
        sub = stream.trades("FUEL/USDC")
        assert isinstance(sub.get(timeout=30), Reconnected)
        assert sub.get(timeout=10).trade_id == "1"
    server.close()
    assert done.wait(10) and not server.errors
    assert trickled["bytes"] < 300  # ~15 at the bound; a generous ceiling for a loaded machine


def answer_pings(peer: Peer) -> None:
    """A healthy quiet server: answer each ``PING`` with ``PONG`` until the client closes."""
    try:
        while True:
            message = peer.receive(timeout=10)
            if message.opcode == _ws.OP_CLOSE:
                return
            if message.payload == b"PING":
                peer.send(_ws.OP_TEXT, b"PONG")
    except (ConnectionError, OSError):
        pass


def test_a_big_message_on_a_slow_link_is_progress_not_silence():
    """The other side of the rule above: a 1.2 MB snapshot arriving in 64 KiB pieces over ~1 s,
    longer than the 0.3 s bound, keeps the connection alive and arrives whole."""
    book = {"action": "subscribe_depth", "market_id": MARKET,
            "view": {"buys": [{"price": str(p), "quantity": "1"} for p in range(1, 30_000)], "sells": []}}
    frame = _ws.encode_frame(_ws.OP_TEXT, json.dumps(book).encode(), mask=False)
    assert len(frame) > 1_000_000

    def slow_link(peer: Peer) -> None:
        peer.receive_json()
        for i in range(0, len(frame), 64 << 10):  # a piece every 50 ms: six within each bound
            peer.raw(frame[i:i + (64 << 10)])
            time.sleep(0.05)
        answer_pings(peer)

    server = FrameServer([slow_link])
    with Stream(fake_client(), url=server.url, ping_interval=0.1, liveness=0.3, sleep=lambda s: None) as stream:
        depth = stream.depth("FUEL/USDC")
        assert depth.get(timeout=30).snapshot and len(depth.book.buys) == 29_999
        assert stream.reconnects == 0
    server.close()
    assert not server.errors


def test_pings_from_a_proxy_do_not_keep_a_dead_exchange_alive():
    """The README: nothing received — no message, no PONG — for ``liveness`` seconds is a dead
    peer. Before: any frame counted, so a proxy (or a stuck server's WebSocket layer) sending
    protocol pings kept a stream whose exchange never answered a PING "connected" for ever."""
    pinged: Dict[str, int] = {}
    done = threading.Event()

    def proxy_only(peer: Peer) -> None:
        peer.receive_json()
        peer.sock.settimeout(0.001)
        for sent in range(1, 500):  # a protocol ping each 20 ms: at most 10 s, far past the 0.15 s bound
            try:
                peer.send(_ws.OP_PING, b"lb")
                time.sleep(0.02)
                data = peer.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # the client closed and went
                data = b""
            if not data or any(m.opcode == _ws.OP_CLOSE for m in peer.reader.feed(data)):
                pinged["pings"] = sent
                break
        done.set()
        peer.hang_up()

    def steady(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(1))
        until_closed(peer)

    server = FrameServer([proxy_only, steady])
    with Stream(fake_client(), url=server.url, ping_interval=0.05, liveness=0.15, sleep=lambda s: None) as stream:
        sub = stream.trades("FUEL/USDC")
        assert isinstance(sub.get(timeout=30), Reconnected)
        assert sub.get(timeout=10).trade_id == "1"
    server.close()
    assert done.wait(10) and not server.errors
    assert pinged["pings"] < 150  # ~8 at the bound; a generous ceiling for a loaded machine


# --- failed subscriptions, and subscribing while the stream closes ---------------------------------

class Held:
    """The server side of one connection: ``sent`` queues the client's JSON messages."""

    def __init__(self) -> None:
        self.peer: Optional[Peer] = None
        self.sent: "queue.Queue[Dict[str, Any]]" = queue.Queue()

    def __call__(self, peer: Peer) -> None:
        self.peer = peer
        try:
            while True:
                message = peer.receive(timeout=30)
                if message.opcode == _ws.OP_CLOSE:
                    return
                if message.opcode == _ws.OP_TEXT and message.payload != b"PING":
                    self.sent.put(json.loads(message.payload))
        except (ConnectionError, OSError):
            pass

    def next(self, timeout: float = 10) -> Dict[str, Any]:
        return self.sent.get(timeout=timeout)


def test_a_failed_subscription_is_let_go_on_the_server_and_in_the_stream():
    """Before: an overflowed (or refused, or unreadable) subscription raised forever but stayed
    held: the server kept streaming for it, every reconnect asked for it again, its full queue
    (10,000 events by default) stayed in memory, and its market's depth precision stayed taken."""
    held = Held()
    server = FrameServer([held])
    with Stream(fake_client(), url=server.url, queue_size=2) as stream:
        trades = stream.trades("FUEL/USDC")
        assert held.next() == {"action": "subscribe_trades", "market_id": MARKET}
        for n in range(3):
            held.peer.send(_ws.OP_TEXT, trades_message(n))
        assert held.next() == {"action": "unsubscribe_trades", "market_id": MARKET}
        with pytest.raises(o2lite.StreamError, match="overflowed"):
            trades.get(timeout=10)
        assert "subscriptions=0" in repr(stream)
        depth = stream.depth("FUEL/USDC", precision=1)
        held.next()
        held.peer.send_json({"action": "error", "code": 6002, "message": "no", "market_id": MARKET})
        assert held.next() == {"action": "unsubscribe_depth", "market_id": MARKET, "precision": "10"}
        with pytest.raises(o2lite.StreamError, match="no"):
            depth.get(timeout=10)
        stream.depth("FUEL/USDC", precision=3)  # the refused book no longer holds the market's precision
        assert held.next() == {"action": "subscribe_depth", "market_id": MARKET, "precision": "1000"}
        trades.close()  # closing a failed subscription later changes nothing
        depth.close()
        with pytest.raises(queue.Empty):
            held.next(timeout=0.2)
    server.close()
    assert not server.errors


def test_a_subscription_made_as_the_stream_closes_is_refused_not_left_waiting():
    """Before: a subscribe() that had passed its "closed?" check when close() ran in another thread
    was held after close() had ended every subscription: returned without error, never served,
    and its get() without a timeout waited forever."""
    held = Held()
    server = FrameServer([held])
    stream = Stream(fake_client(), url=server.url)
    add = stream._registry.add

    def add_after_close(sub: Any) -> None:  # the other thread's close() wins the race here
        stream.close()
        add(sub)

    stream._registry.add = add_after_close  # type: ignore[method-assign]
    try:
        sub = stream.trades("FUEL/USDC")
    except o2lite.StreamError as exc:
        assert "closed" in str(exc)
    else:
        with pytest.raises(o2lite.StreamError) as info:
            sub.get(timeout=1)
        assert not isinstance(info.value, TimeoutError)
    finally:
        stream.close()
        server.close()


def test_a_subscribe_waiting_for_the_connection_returns_once_its_request_went_out(monkeypatch):
    """Before: "connected" was published before the subscriptions held were sent, so the subscribe
    call waiting for it returned with its request not yet sent (its docstring says: once sent),
    and an order placed right after over REST had a head start on the subscription."""
    from o2lite.streams.registry import Registry

    opened = Registry.opened

    def slow_opened(self: Registry, attempts: int, gap: Optional[float]) -> None:
        time.sleep(0.2)  # the reader thread, slow to get to sending (a busy GIL, say)
        opened(self, attempts, gap)

    monkeypatch.setattr(Registry, "opened", slow_opened)
    held = Held()
    server = FrameServer([held])
    with Stream(fake_client(), url=server.url) as stream:
        sub = stream.trades("FUEL/USDC")
        assert sub.live and stream.connected  # sent on the connection before the call returned
        assert held.next() == {"action": "subscribe_trades", "market_id": MARKET}
    server.close()


# --- get(timeout=…) with any value ------------------------------------------------------------------

@pytest.mark.parametrize("timeout", [float("nan"), -1, -10**400, "1", True, [1]])
def test_a_bad_timeout_is_a_validation_error_never_a_hang(timeout):
    """Before: ``timeout=nan`` waited forever (for a timeout!), ``-1`` raised a bare ValueError,
    ``"1"`` a TypeError, ``True`` waited a second."""
    sub = o2lite.streams.Subscription(lambda s: None, "trades", (MARKET,), {}, 10)
    outcome: "queue.Queue[BaseException]" = queue.Queue()

    def call() -> None:
        try:
            sub.get(timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.put(exc)

    threading.Thread(target=call, daemon=True).start()
    error = outcome.get(timeout=5)  # a hang fails here
    assert isinstance(error, o2lite.ValidationError) and "timeout" in str(error)


@pytest.mark.parametrize("timeout", [float("inf"), 1e300, 10**400])
def test_an_endless_timeout_waits_like_none(timeout):
    """Before: OverflowError ("timestamp out of range") for a timeout past the platform's limit."""
    sub = o2lite.streams.Subscription(lambda s: None, "trades", (MARKET,), {}, 10)
    threading.Timer(0.05, sub._put, args=("event",)).start()
    assert sub.get(timeout=timeout) == "event"


# --- o2lite watch on a busy stream --------------------------------------------------------------------

def test_watch_announces_every_outage_on_a_busy_stream():
    """Before: the last ``retry_in`` seen stayed the mark to beat after the connection was back; on a
    busy stream (no quiet moment to reset it) a second outage whose first wait was shorter than
    the first outage's last look went unannounced."""
    from o2lite.cli.output import Output
    from o2lite.cli.watch import _events

    tick = o2lite.StreamTimeout("nothing yet")
    back = Reconnected(1, 0.0, 0.5)
    # (what get() gives, stream.retry_in at that moment): outage 1 seen at 0.9 s, back, trades flow
    # without a pause, outage 2 starts with a 0.6 s wait
    script = [(tick, 0.9), (back, None), ("t1", None), ("t2", None), (tick, 0.6), (back, None), ("t3", None)]
    state = {"retry_in": None}

    class Sub:
        def get(self, timeout: Optional[float] = None) -> Any:
            event, state["retry_in"] = script.pop(0)
            if isinstance(event, BaseException):
                raise event
            return event

    stream = type("FakeStream", (), {"retry_in": property(lambda self: state["retry_in"])})()
    lines: List[Dict[str, Any]] = []
    out = Output(as_json=True)
    out.line = lambda data, text="": lines.append(data)  # type: ignore[method-assign]
    events = list(_events(stream, Sub(), 3, out))
    assert events == [back, "t1", "t2", back, "t3"]
    assert [line["retry_in"] for line in lines] == [0.9, 0.6]  # both outages announced


# --- what makes a connection healthy --------------------------------------------------------------------

def test_a_server_that_answers_with_an_error_and_hangs_up_is_a_failure_not_a_healthy_connection():
    """Before: any text counted as a delivered message, so a server answering each (re)subscribe
    with an error and dropping the connection reset the failure count every time: a reconnect
    every ~0.75 s forever, a Reconnected each time, never the give-up rule."""
    other_market = "0x" + "b2" * 32
    waits: List[float] = []

    def refuse_and_drop(peer: Peer) -> None:
        peer.receive_json()
        peer.send_json({"action": "error", "code": 6001, "message": "Too many subscriptions",
                        "market_id": other_market})  # not this subscription's market: it stays
        peer.hang_up(1013)

    server = FrameServer([refuse_and_drop])
    stream = Stream(fake_client(), url=server.url, sleep=waits.append)
    try:
        sub = stream.trades("FUEL/USDC")
        with pytest.raises(o2lite.StreamError, match=f"gave up after {MAX_FAILURES} failures") as info:
            for _ in range(4 * MAX_FAILURES):  # bounded: a stream that never gives up fails here
                assert isinstance(sub.get(timeout=10), Reconnected)
        assert not isinstance(info.value, TimeoutError)
    finally:
        stream.close()
        server.close()
    assert server.connections == MAX_FAILURES and len(waits) == MAX_FAILURES - 1
    assert waits[-1] >= 30  # the backoff grew to its 60 s cap: these were failures


# --- the stream's own settings ---------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [{"connect_timeout": float("nan")}, {"connect_timeout": -1},
                                     {"connect_timeout": 0}, {"connect_timeout": "5"},
                                     {"connect_timeout": float("inf")}, {"max_message": 0},
                                     {"max_message": "4M"}, {"max_message": True}])
def test_bad_settings_are_refused_up_front(setting):
    """Before: accepted, then every connection attempt failed on them (nan, -1, 0, inf: "gave up
    after 10 failures in a row" after ten paced attempts; "5", "4M": "an unexpected error in the
    reader"), or every message was refused as too large (0)."""
    with pytest.raises(o2lite.ValidationError, match=next(iter(setting))):
        Stream(fake_client(), url="ws://127.0.0.1:9/v1/ws", **setting)


def test_a_bug_while_connected_closes_the_connection_and_says_so(monkeypatch):
    """Before: an unexpected error in the reader while connected gave up but skipped the clean-up:
    ``stream.connected`` stayed True on a dead stream and the socket stayed open until close()."""
    ended = threading.Event()

    def broken_feed(self: Any, data: bytes) -> Any:
        raise RuntimeError("a bug")

    def held_open(peer: Peer) -> None:  # raw reads: the server's own FrameReader is broken too
        peer.sock.settimeout(10)
        try:
            while peer.sock.recv(65536):
                pass
            ended.set()  # the client closed the connection
        except OSError:
            pass

    monkeypatch.setattr(_ws.FrameReader, "feed", broken_feed)
    server = FrameServer([held_open])
    stream = Stream(fake_client(), url=server.url)
    try:
        with pytest.raises(o2lite.StreamError, match="unexpected error in the reader"):
            stream.trades("FUEL/USDC").get(timeout=10)  # raised by either, as the reader gets there
        assert not stream.connected and not stream.reconnecting
        assert ended.wait(5)  # the client closed its socket without being asked to
    finally:
        stream.close()
        server.close()


def test_watch_says_disconnected_at_once_when_the_server_is_down_at_start(capsys):
    """Before: a subscribe made while the first attempt had failed waited out connect_timeout
    (10 s by default) before returning the held subscription, so ``o2lite watch`` started during
    an outage said nothing for that long — or nothing at all, when the server came back first."""
    import argparse
    from decimal import Decimal
    from types import SimpleNamespace

    from o2lite.cli.output import Output
    from o2lite.cli.watch import cmd_watch_trades

    from .ws_server import REFUSE

    gate = threading.Event()

    def back(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(1))
        until_closed(peer)

    server = FrameServer([REFUSE, back])
    m = SimpleNamespace(pair="FUEL/USDC", base=SimpleNamespace(symbol="FUEL"),
                        format_price=lambda p: Decimal(p), format_quantity=lambda q: Decimal(q))
    client = SimpleNamespace(markets=SimpleNamespace(get=lambda pair: m), stream=lambda: Stream(
        fake_client(), url=server.url, connect_timeout=30, sleep=lambda s: gate.wait(10)))
    watcher = threading.Thread(target=cmd_watch_trades,
                               args=(client, argparse.Namespace(pair="FUEL/USDC", count=1), Output(as_json=True)))
    watcher.start()
    out = ""
    for _ in range(300):  # bounded: within one look (0.2 s) of the refusal, if the machine lets it
        out += capsys.readouterr().out
        if "disconnected" in out:
            break
        time.sleep(0.025)
    said_in_time = "disconnected" in out and not gate.is_set()
    gate.set()
    watcher.join(10)
    out += capsys.readouterr().out
    server.close()
    assert said_in_time, out
    assert not watcher.is_alive() and [json.loads(line).get("event", "trade") for line in out.splitlines()] == \
        ["disconnected", "trade"]


# --- the live book, read while the reader applies updates ---------------------------------------------

def test_the_book_read_while_an_update_removes_its_best_level():
    """Before: ``best_bid`` took the best price twice: an update applied by the reader thread in
    between (removing that level) raised ``KeyError`` in the caller (10 in 300,000 reads in a
    stress run) or gave one state's price with another's quantity. Here the update comes
    exactly in between, every time."""
    from o2lite.market_data import DepthLevel
    from o2lite.streams import DepthUpdate, OrderBook

    book = OrderBook()
    book.apply(DepthUpdate(MARKET, True, ((150, 1), (100, 2)), ((200, 3),)))
    reader = threading.Thread(target=book.apply, args=(DepthUpdate(MARKET, False, ((150, -1),), ()),))

    class Racing(dict):  # type: ignore[type-arg]
        def __iter__(self) -> Any:  # max() of the prices is taken: the reader applies its update now
            prices = list(dict.__iter__(self))
            if reader.ident is None:  # the first read only
                reader.start()
                reader.join(0.2)  # done at once without a lock; blocked until the read ends with one
            return iter(prices)

    book._buys = Racing(book._buys)
    assert book.best_bid == DepthLevel(150, 1)  # the book before the update, whole
    reader.join(5)
    assert book.best_bid == DepthLevel(100, 2) and book.spread == 100  # and after it

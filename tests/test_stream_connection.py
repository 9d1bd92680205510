"""Streams you can leave running (issue #19), the connection's side (o2lite/streams/connection.py):
paced reconnects, the give-up rule for every failure shape, liveness, subscriptions made during
an outage, visible state, and 200 drops without losing events or growing threads and memory."""

from __future__ import annotations

import gc
import itertools
import json
import os
import random
import socket
import threading
import time
import tracemalloc
from typing import Any, Dict, List, Optional

import pytest

import o2lite
from o2lite.models import Trade
from o2lite.streams import Reconnected, Stream
from o2lite.streams import frames as _ws
from o2lite.streams.connection import MAX_FAILURES, backoff_delay

from .ws_server import MARKET, PEER_THREAD, REFUSE, FrameServer, Peer, fake_client, trades_message

ACCOUNT = "0x" + "0b" * 32


class VirtualClock:
    """Time that passes only in the client's waits before reconnecting: a pacing test takes no
    real time, and what it counts (connections within 10 s) does not depend on the machine."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: List[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def until_closed(peer: Peer) -> None:
    """Read (and ignore) what the client sends until it closes the connection."""
    try:
        while peer.receive(timeout=10).opcode != _ws.OP_CLOSE:
            pass
    except (ConnectionError, OSError):
        pass


def test_backoff_is_exponential_jittered_and_capped():
    rng = random.Random(19)
    for failures in range(15):
        ceiling = min(2 ** max(failures - 1, 0), 60)
        delays = [backoff_delay(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # spread: clients dropped together do not return together


def _drop_after_subscribe(peer: Peer, code: Optional[int]) -> None:
    peer.receive_json()  # the (re)sent subscription
    if code is None:
        peer.hang_up()
    else:
        peer.hang_up(code)


def _silent(peer: Peer) -> None:
    until_closed(peer)  # never answers a PING: the client's liveness bound ends it


@pytest.mark.parametrize("shape", ["refused", "503", "close 1001", "close 1013", "abrupt", "silent"])
def test_every_failure_shape_is_paced_and_gives_up_after_ten(shape):
    """The issue's storm: 6,641 connections in 3 s against an accept-then-close server. Now every
    reconnect waits its jittered backoff and ten quick failures in a row end the stream."""
    # Each closing server reads the subscription first, so every drop follows a subscription the
    # client had sent (and must announce as Reconnected); closing before it arrived would make
    # the count depend on which side the scheduler runs first.
    scripts = {"503": REFUSE, "close 1001": lambda peer: _drop_after_subscribe(peer, 1001),
               "close 1013": lambda peer: _drop_after_subscribe(peer, 1013),
               "abrupt": lambda peer: _drop_after_subscribe(peer, None), "silent": _silent}
    clock = VirtualClock()
    starts: List[float] = []
    if shape == "refused":
        listener = socket.create_server(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}/v1/ws"
        listener.close()  # nothing listens there now
        server = None
    else:
        script = scripts[shape]

        def timed(peer: Peer) -> None:
            starts.append(clock.now)
            script(peer)

        server = FrameServer([REFUSE if script is REFUSE else timed])
        url = server.url
    # a tiny liveness bound for the silent peer only: elsewhere a slow machine must not make a
    # quick drop look like a connection that stayed up a ping interval
    timing = dict(ping_interval=0.02, liveness=0.06) if shape == "silent" else {}
    stream = Stream(fake_client(), url=url, sleep=clock.sleep, **timing)
    events: List[Any] = []
    try:
        with pytest.raises(o2lite.StreamError, match=f"gave up after {MAX_FAILURES} failures in a row") as info:
            sub = stream.trades("FUEL/USDC")  # refused shapes raise here; the others once they give up
            for _ in range(4 * MAX_FAILURES):  # bounded: a stream that never gives up fails below
                events.append(sub.get(timeout=10))
        assert not isinstance(info.value, o2lite.StreamTimeout)
    finally:
        stream.close()
        if server is not None:
            server.close()
    assert len(clock.waits) == MAX_FAILURES - 1  # a wait before every reconnect, none after giving up
    for failures, wait in enumerate(clock.waits, 1):
        ceiling = min(2 ** (failures - 1), 60)
        assert ceiling / 2 <= wait <= ceiling
    opened_at = list(itertools.accumulate([0.0] + clock.waits))
    assert sum(t < 10 for t in opened_at) <= 5  # attempts in the first 10 s: ≤ 5, not thousands
    if shape in ("refused", "503"):
        assert events == [] and stream.reconnects == 0
        assert server is None or server.connections == MAX_FAILURES
    else:
        assert len(starts) == MAX_FAILURES and starts == opened_at
        # one Reconnected per subscription per reconnect, never more
        assert [type(e) for e in events] == [Reconnected] * (MAX_FAILURES - 1)
        assert stream.reconnects == MAX_FAILURES - 1
    assert stream.failure is info.value and not stream.reconnecting
    with pytest.raises(o2lite.StreamError) as again:  # a stream that gave up refuses new subscriptions
        stream.balances(ACCOUNT)
    assert again.value is info.value


def test_a_refusing_then_recovering_endpoint_serves_subscriptions_made_during_the_outage():
    gate = threading.Event()
    received: List[Dict[str, Any]] = []

    def held_back(seconds: float) -> None:  # the outage lasts until the test lets it end
        gate.wait(10)

    def recovered(peer: Peer) -> None:
        received.extend([peer.receive_json(), peer.receive_json()])
        peer.send(_ws.OP_TEXT, trades_message(1))
        peer.send_json({"action": "subscribe_balances", "balance": [
            {"identity": {"ContractId": ACCOUNT}, "asset_id": "0x" + "0c" * 32, "total_locked": "1",
             "total_unlocked": "2", "trading_account_balance": "3"}]})
        until_closed(peer)

    server = FrameServer([REFUSE, REFUSE, recovered])
    with Stream(fake_client(), url=server.url, sleep=held_back, connect_timeout=0.3) as stream:
        trades = stream.trades("FUEL/USDC")  # bot start-up during a blip: held, not lost
        assert not stream.connected and stream.reconnecting and 0 <= stream.retry_in <= 1
        balances = stream.balances(ACCOUNT)  # made during the outage
        gate.set()
        first = trades.get(timeout=10)
        assert isinstance(first, Trade) and first.trade_id == "1"  # no Reconnected: it was never live before
        assert balances.get(timeout=10).total_unlocked == 2
        assert stream.connected and not stream.reconnecting and stream.retry_in is None
    assert sorted(r["action"] for r in received) == ["subscribe_balances", "subscribe_trades"]  # each once
    assert server.connections == 3 and not server.errors
    server.close()


def test_a_silent_peer_is_detected_within_the_liveness_bound():
    seen: Dict[str, Any] = {}

    def silent(peer: Peer) -> None:
        peer.receive_json()
        start, pings = time.monotonic(), 0
        while True:
            message = peer.receive(timeout=10)
            if message.opcode == _ws.OP_CLOSE:
                seen.update(after=time.monotonic() - start, code=_ws.parse_close(message.payload)[0], pings=pings)
                return peer.hang_up()
            pings += message.payload == b"PING"

    def quiet_but_alive(peer: Peer) -> None:
        peer.receive_json()
        for _ in range(12):  # 12 ping intervals without a message: PONGs keep it alive
            while peer.receive().payload != b"PING":
                pass
            peer.send(_ws.OP_TEXT, b"PONG")
        peer.send(_ws.OP_TEXT, trades_message(2))
        until_closed(peer)

    server = FrameServer([silent, quiet_but_alive])
    with Stream(fake_client(), url=server.url, ping_interval=0.05, liveness=0.5, sleep=lambda s: None) as stream:
        sub = stream.trades("FUEL/USDC")
        back = sub.get(timeout=10)
        assert isinstance(back, Reconnected) and back.attempts == 1 and back.gap >= 0
        assert sub.get(timeout=10).trade_id == "2"
        assert stream.reconnects == 1 and stream.connected
    assert seen["code"] == 1001 and seen["pings"] >= 1  # it kept asking while the peer said nothing
    assert 0.45 <= seen["after"] < 0.5 + 5  # not before the bound; the ceiling is generous for slow machines
    assert server.connections == 2 and not server.errors
    server.close()


def test_state_is_visible_while_disconnected():
    gate = threading.Event()

    def one_then_drop(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(1))
        peer.hang_up(1012)

    def steady(peer: Peer) -> None:
        assert {peer.receive_json()["action"] for _ in range(2)} == {"subscribe_trades", "subscribe_nonce"}
        peer.send(_ws.OP_TEXT, trades_message(2))
        peer.send_json({"action": "subscribe_nonce", "contract_id": ACCOUNT, "nonce": "3"})
        until_closed(peer)

    server = FrameServer([one_then_drop, steady])
    with Stream(fake_client(), url=server.url, sleep=lambda s: gate.wait(10), connect_timeout=0.2) as stream:
        sub = stream.trades("FUEL/USDC")
        assert sub.get(timeout=10).trade_id == "1"
        for _ in range(500):  # bounded: the reader notices the close at once
            if stream.reconnecting and stream.retry_in is not None:
                break
            time.sleep(0.01)
        assert not stream.connected and stream.reconnecting and 0 <= stream.retry_in <= 1
        assert "reconnecting" in repr(stream)
        later = stream.nonce(ACCOUNT)  # made during the outage: held, sent once connected
        gate.set()
        back = sub.get(timeout=10)
        assert isinstance(back, Reconnected) and back.gap > 0 and back.attempts == 1
        assert sub.get(timeout=10).trade_id == "2" and stream.connected and "connected" in repr(stream)
        assert later.get(timeout=10).nonce == 3  # no Reconnected: it was not live before the drop
    server.close()


def _stream_threads() -> int:
    return sum(t.name == "o2lite-stream" for t in threading.enumerate())


def _our_threads() -> int:
    """This test's own threads (the stream's readers and the test server's peers), not the
    process's: other tests' threads may still be winding down while this one runs."""
    return sum(t.name in ("o2lite-stream", PEER_THREAD) for t in threading.enumerate())


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_200_server_drops_while_trades_flow_lose_nothing_and_grow_nothing():
    drops = 200
    server_rng, client_rng = random.Random(2000), random.Random(2001)
    trade_ids = itertools.count(1)
    connection = itertools.count(1)
    sent: List[int] = []

    def churn(peer: Peer) -> None:
        assert {peer.receive_json()["action"] for _ in range(2)} == {"subscribe_trades", "subscribe_depth"}
        n = next(connection)
        peer.send_json({"action": "subscribe_depth", "market_id": MARKET,
                        "view": {"buys": [{"price": "100", "quantity": str(n * 10)}], "sells": []}})
        last = n > drops
        for seq in range(1, server_rng.randint(1, 4) + 1):
            trade_id = next(trade_ids)
            sent.append(trade_id)
            peer.send(_ws.OP_TEXT, trades_message(trade_id))
            peer.send_json({"action": "subscribe_depth_update", "market_id": MARKET, "connection": n, "seq": seq,
                            "changes": {"buys": [{"price": "100", "quantity": "1"}], "sells": []}})
            if server_rng.random() < 0.3:
                time.sleep(server_rng.random() * 0.002)
        if last:
            peer.send(_ws.OP_TEXT, trades_message(0))  # the end marker
            return until_closed(peer)
        peer.hang_up(server_rng.choice([None, 1001, 1011, 1012, 1013]))

    server = FrameServer([churn])
    others = _stream_threads()  # readers of other tests' streams, if any still wind down
    stream = Stream(fake_client(), url=server.url, sleep=lambda s: time.sleep(client_rng.random() * 0.002))
    depth_log: List[Any] = []
    try:
        trades, depth = stream.trades("FUEL/USDC"), stream.depth("FUEL/USDC")

        def consume_depth() -> None:  # until the stream is closed (every queued event read first)
            try:
                while True:
                    event = depth.get(timeout=20)
                    if isinstance(event, Reconnected):
                        depth_log.append("R")
                    elif event.snapshot:
                        depth_log.append(("S", event.buys[0][1] // 10))
                    else:
                        depth_log.append(("U", event.raw["connection"], event.raw["seq"]))
            except o2lite.StreamError as exc:
                depth_log.append(exc)

        got: List[int] = []
        reconnects, warm = 0, None
        consumer = threading.Thread(target=consume_depth, daemon=True)
        consumer.start()
        while True:
            event = trades.get(timeout=20)
            if isinstance(event, Reconnected):
                reconnects += 1
                assert _stream_threads() == others + 1  # one reader thread, reused by every reconnect
                if reconnects == 20:  # warmed up: measure from here
                    tracemalloc.start()
                    warm = (_our_threads(), _fds())
                continue
            if event.trade_id == "0":
                break
            got.append(int(event.trade_id))
        assert got == sent  # every trade sent after a subscription arrived, in order
        assert reconnects == drops == stream.reconnects
        gc.collect()  # json's decoder/scanner reference cycles wait for the cyclic collector
        # what is still allocated since drop 20, less the test's own records (its lists of ids)
        memory_growth = sum(stat.size for stat in tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, __file__), tracemalloc.Filter(False, tracemalloc.__file__)]).statistics("filename"))
        tracemalloc.stop()
        for _ in range(200):  # bounded: the server's finished connection threads wind down
            if _our_threads() <= warm[0] and _fds() <= warm[1]:
                break
            time.sleep(0.01)
        assert _our_threads() <= warm[0] and _fds() <= warm[1] + 2
        # two 64 KiB receive buffers in flight and CPython's bounded free lists (~35 KiB); a leak of
        # 1.5 KiB per drop (a socket, a thread, a queue) would exceed this bound after 180 drops
        assert memory_growth < 256 << 10, memory_growth
        print(f"after {drops} drops: {memory_growth} bytes still allocated since drop 20, threads "
              f"{_our_threads()} (at drop 20: {warm[0]}), fds {_fds()} (at drop 20: {warm[1]})")
    finally:
        stream.close()
        server.close()
    consumer.join(10)
    assert _stream_threads() == others
    assert isinstance(depth_log.pop(), o2lite.StreamError) and not isinstance(depth_log[-1], Exception)
    # depth: after every reconnect the snapshot, then every update of that connection, none lost
    connections = [list(g) for k, g in itertools.groupby(depth_log, lambda e: e == "R") if not k]
    assert len(connections) == drops + 1
    for n, events in enumerate(connections, 1):
        assert events[0] == ("S", n) and [e for e in events[1:]] == [("U", n, s) for s in range(1, len(events))]


def test_a_bug_in_the_reader_fails_the_subscriptions_instead_of_leaving_them_waiting(monkeypatch):
    def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("o2lite.streams.connection.open_websocket", broken)
    stream = Stream(fake_client(), url="ws://127.0.0.1:9/v1/ws", sleep=lambda s: None)
    with pytest.raises(o2lite.StreamError, match="unexpected error in the reader: RuntimeError"):
        stream.trades("FUEL/USDC")
    stream.close()
    assert stream.failure is not None and not stream.reconnecting and not stream.connected

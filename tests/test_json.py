"""Bounded JSON (issue #20): the nesting guard in front of every parser of outside text — client
answers, sandbox request bodies, stream messages — agrees with the parser and costs linear time.

No test here is timed against a clock budget: growth is judged by the ratio of CPU time between
sizes (a 4× larger text may cost at most 12× more, plus 5 ms of noise). The old guard was
quadratic (16× per 4×), so it fails at the second size, within seconds.
"""

from __future__ import annotations

import gc
import json
import random
import socket
import threading
import time
from decimal import Decimal
from typing import Callable, Dict, List

import pytest

import o2lite
from o2lite._json import MAX_DEPTH, JSONLimitError, check_depth, loads
from o2lite.sandbox import Sandbox
from o2lite.streams import Stream
from o2lite.streams import frames as _ws
from o2lite.streams.registry import Registry

from .conftest import BASE
from .ws_server import FrameServer, Peer, fake_client, trades_message

KB = 1024
SIZES = [10 * KB, 40 * KB, 160 * KB, 640 * KB, 2560 * KB, 8 * KB * KB]  # 10 KB … 8 MB, ×4 steps

#: Hostile texts by name: each builds a text of about ``n`` characters.
HOSTILE: Dict[str, Callable[[int], str]] = {
    # the reproduction: past the bracket fast path, then escaped quotes never closed
    "escaped quotes, unterminated": lambda n: "[" * 40 + '\\"' * (n // 2),
    "backslash runs": lambda n: "[" * 40 + '"\\' * (n // 2),
    "bare quotes": lambda n: "[" * 40 + '"' * n,
    "many short strings": lambda n: "[" * 31 + '"a",' * (n // 4) + '"a"' + "]" * 31,
    "many brackets": lambda n: "[" + "[]," * (n // 3) + "[]]",
    "deep objects": lambda n: '{"a":' * (n // 5),  # deep nesting, strings between the brackets
    "many numbers": lambda n: "[" + "12345678," * (n // 9) + "1]",
    "one long number": lambda n: "1" * n,
    "escapes in one string": lambda n: '["' + "\\u0041\\n" * (n // 8) + '"]',
}


def cpu_seconds(run: Callable[[], object]) -> float:
    """Fastest of a few runs (runs repeat only while they are cheap), in this process's CPU time.

    The garbage collector is paused while a run is timed: its passes over millions of fresh
    containers land at moments that depend on the whole test session, which makes one size's
    time jump for reasons that are not the code's.
    """
    best, spent = float("inf"), 0.0
    for _ in range(5):
        gc.disable()
        try:
            start = time.process_time()
            run()
            took = time.process_time() - start
        finally:
            gc.enable()
        best, spent = min(best, took), spent + took
        if spent > 0.05:
            break
    return best


def assert_linear(cost: Callable[[int], float], sizes: List[int] = SIZES) -> Dict[int, float]:
    """Each ×4 step in size may cost at most ×12 (+5 ms): linear passes, quadratic fails."""
    seen: Dict[int, float] = {}
    for size in sizes:
        seen[size] = cost(size)
        if len(seen) > 1:
            small, big = sizes[len(seen) - 2], size
            bound = seen[small] * (big / small) * 3 + 0.005
            assert seen[big] <= bound, f"{big} chars cost {seen[big]:.3f} s, {small} cost {seen[small]:.3f} s: " \
                                       "not linear"
    return seen


def parse_cost(text: str) -> float:
    def run() -> None:
        try:
            loads(text)
        except ValueError:
            pass
    return cpu_seconds(run)


# --- the guard agrees with the parser ---------------------------------------------------------

def _nested(rng: random.Random, depth: int) -> object:
    """A random JSON value nesting exactly ``depth`` levels, with strings full of quotes,
    backslashes and brackets."""
    if depth == 0:
        return rng.choice(['"', "\\", '\\"', "[", "]{", "}", 'a"b\\\\"', "\\u005c", "", 7, "x\\"])
    inner = [_nested(rng, depth - 1)] + [_nested(rng, rng.randrange(depth)) for _ in range(rng.randrange(3))]
    rng.shuffle(inner)
    if rng.random() < 0.5:
        return inner
    return {rng.choice(['k"', "[", "\\", "}"]) + str(i): v for i, v in enumerate(inner)}


@pytest.mark.parametrize("seed", range(40))
def test_depth_guard_counts_exactly_the_nesting_of_real_json(seed):
    rng = random.Random(seed)
    depth = rng.randrange(1, 12)
    text = json.dumps(_nested(rng, depth), ensure_ascii=rng.random() < 0.5)
    check_depth(text, depth)
    with pytest.raises(JSONLimitError, match="nested deeper"):
        check_depth(text, depth - 1)


def test_loads_keeps_its_limits():
    assert loads('{"p": "1", "q": 0.1, "r": 12}') == {"p": "1", "q": Decimal("0.1"), "r": 12}
    assert loads('["\\\\", "\\"[[[[", {"a": []}]') == ["\\", '"[[[[', {"a": []}]
    for bad in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "1" * 101, "NaN", "[Infinity]"):
        with pytest.raises(JSONLimitError):
            loads(bad)


# --- linear cost ----------------------------------------------------------------------------

#: Texts the parser itself must build (millions of lists, numbers, objects) stop at 2.5 MB: past
#: that the test would time the interpreter's allocator, not the guard, and only run longer.
BUILT_BY_THE_PARSER = {"many brackets", "many numbers", "deep objects"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_texts_cost_linear_time_from_10_kb_to_8_mb(name):
    build = HOSTILE[name]
    assert_linear(lambda size: parse_cost(build(size)), SIZES[:-1] if name in BUILT_BY_THE_PARSER else SIZES)


def test_a_hostile_answer_costs_the_client_linear_time(mocked, client):
    """Client answers: the transport reads through the same guard (8 MB is its answer cap)."""
    def cost(size: int) -> float:
        body = HOSTILE["escaped quotes, unterminated"](size - 100)
        mocked.replace("GET", BASE + "/v1/depth", body=body, content_type="application/json")

        def run() -> None:
            with pytest.raises(o2lite.O2Error):
                client.transport.request("GET", "/v1/depth", params={"market_id": "0x" + "a1" * 32})
        return cpu_seconds(run)

    mocked.get(BASE + "/v1/depth", body="{}")
    assert_linear(cost)


def test_a_hostile_stream_message_is_dropped_in_linear_time():
    """Stream messages: what the reader thread does with a text frame (the stream's own
    ``max_message`` is 4 MB), then one such message on a live connection, followed by a real
    one that must still arrive."""
    registry = Registry(lambda message: True)
    assert_linear(lambda size: cpu_seconds(lambda: registry.dispatch(HOSTILE["escaped quotes, unterminated"](size))))

    def hostile_then_real(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, HOSTILE["escaped quotes, unterminated"](2 * KB * KB).encode())
        peer.send(_ws.OP_TEXT, trades_message(1))
        time.sleep(0.5)

    server = FrameServer([hostile_then_real])
    with Stream(fake_client(), url=server.url) as live:
        trade = live.trades("FUEL/USDC").get(timeout=30)  # generous: the old guard took hours here
        assert trade.trade_id == "1"
    server.close()


def _post(port: int, body: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /v1/session/actions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ")[1])


def test_the_sandbox_keeps_serving_others_while_one_client_sends_hostile_bodies():
    """Sandbox request bodies, 10 KB up to its 1 MiB cap, several at once from one client, while
    another client's reads keep being answered. The old guard froze the whole server (9 s for
    60 KB); here every hostile body is refused with 400 and no read waits behind them."""
    with Sandbox(read_timeout=5.0) as sx:
        port = sx._httpd.server_address[1]
        reads = o2lite.Client(sx.url)
        reads.markets.list()
        slowest: Dict[int, float] = {}
        for size in [10 * KB, 40 * KB, 160 * KB, 640 * KB, 1000 * KB]:
            statuses: List[int] = []
            body = HOSTILE["escaped quotes, unterminated"](size).encode()
            senders = [threading.Thread(target=lambda: statuses.append(_post(port, body))) for _ in range(4)]
            for thread in senders:
                thread.start()
            latencies = []
            while any(thread.is_alive() for thread in senders) or len(latencies) < 3:
                start = time.monotonic()
                assert reads.transport.request("GET", "/health") == {"status": "ok"}
                latencies.append(time.monotonic() - start)
            for thread in senders:
                thread.join()
            assert statuses == [400] * 4
            slowest[size] = max(latencies)
            # generous: a read normally takes milliseconds; the old guard made it wait seconds
            assert slowest[size] < 2.0, f"a read waited {slowest[size]:.2f} s behind {size}-byte hostile bodies"
        reads.close()


def test_the_check_tool_reads_a_deeply_nested_document_as_not_json():
    """``o2lite check FILE`` reads a body that may come from anywhere: a 100,000-deep nesting is
    a ValueError the CLI reports, never a RecursionError (review of issue 20)."""
    from o2lite.check import bodies_of

    with pytest.raises(ValueError, match="nested deeper"):
        bodies_of("[" * 100_000)
    assert bodies_of('{"nonce": "1"}') == [({"nonce": "1"}, None)]

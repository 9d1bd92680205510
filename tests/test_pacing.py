"""Pacing (issue 21): at most N requests in any window, shared by every signed call of an owner,
and a 429 answered by resending the identical signed bytes."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.errors import BatchIncomplete, RateLimited
from o2lite.pacing import MAX_WAIT, RateWindow, send_paced
from o2lite.sandbox import Exchange, Sandbox

from .exchange_mock import SANDBOX


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert len(self.slept) < 1000, "the window keeps sleeping slivers"
        self.slept.append(seconds)
        self.now += seconds


def test_at_most_n_in_any_window_counting_from_when_each_request_finished():
    t = FakeTime()
    window = RateWindow(5, 1.0, clock=t.clock, sleep=t.sleep)
    spans = []
    for _ in range(12):
        with window.slot():
            start = t.now
            t.now += 0.05  # the request takes 50 ms
            spans.append((start, t.now))
    for i in range(len(spans) - 5):
        # the sixth request after any one starts only a full window after that one finished
        assert spans[i + 5][0] - spans[i][1] >= 1.0 - 1e-9
    assert spans[4][0] == pytest.approx(0.2)  # the first five went at once
    assert t.now < 3.0  # …and nobody waited longer than needed


def test_a_token_bucket_burst_is_not_what_the_window_allows():
    t = FakeTime()
    window = RateWindow(5, 1.0, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(10):
        with window.slot():
            starts.append(t.now)
    # a bucket of 5 refilling 5/s would start the sixth 0.2 s in: ten in 1.2 s, refused by the exchange
    assert starts[5] >= 1.0 and starts[9] >= 1.0


def _limited(retry_after):
    return RateLimited("Rate limit exceeded", status=429, code=1003, retry_after=retry_after)


def test_send_paced_resends_after_retry_after_then_gives_up():
    t = FakeTime()
    calls = []

    def refused():
        calls.append(t.now)
        raise _limited(0.4)

    with pytest.raises(RateLimited):
        send_paced(refused, None, resends=3, sleep=t.sleep)
    assert len(calls) == 4 and t.slept == [0.4] * 3
    t.slept.clear()
    answers = [_limited(None), _limited(10_000.0), "ok"]

    def flaky():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert send_paced(flaky, None, per=1.0, sleep=t.sleep) == "ok"
    assert t.slept == [1.0, MAX_WAIT]  # no Retry-After: one window; a huge one: capped


def test_a_429_is_answered_by_the_identical_signed_bytes():
    exchange = Exchange()
    sent, refused = [], [2]  # refuse the second signed action request, once

    def serve(request):
        url = urlsplit(request.url)
        if url.path == "/v1/session/actions":
            sent.append(request.body)
            if len(sent) == refused[0]:
                return 429, {"Retry-After": "0.01"}, json.dumps({"code": 1003, "message": "Rate limit exceeded"})
        body = json.loads(request.body) if request.body else None
        status, payload, headers = exchange.handle(request.method, url.path, dict(parse_qsl(url.query)),
                                                   request.headers, body)
        return status, headers, json.dumps(payload)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, re.compile(re.escape(SANDBOX) + r"/.*"), callback=serve)
        with o2lite.Client(SANDBOX) as client:
            trader = client.trader(Wallet.generate())
            trader.setup_account(fund=True)
            trader.open_session(["FUEL/USDC"])  # sequential nonces: a resend must reuse the same one
            first = trader.place("FUEL/USDC", "Buy", "0.0110", "10")
            second = trader.place("FUEL/USDC", "Buy", "0.0110", "11")
    assert len(sent) == 3 and sent[1] == sent[2]  # the same bytes, same nonce, same signature
    assert first.tx_id != second.tx_id and len(second.orders) == 1


def test_place_then_batch_share_one_window_against_the_rate_limited_sandbox():
    with Sandbox(rate_limits=True) as sx, o2lite.Client(sx.url) as client:
        trader = client.trader(Wallet.generate())
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
        for i in range(3):
            trader.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
        batch = trader.batch()
        for i in range(12):
            batch.place("FUEL/USDC", "Buy", "0.0110", str(20 + i))
        results = batch.send()  # 3 requests right after 4 signed ones: paced, never refused
        assert len(results) == 3
        assert len(trader.cancel_all("FUEL/USDC")) == 3  # 15 open orders, five per request


def test_a_batch_that_stays_refused_is_incomplete_and_says_what_landed():
    exchange = Exchange()
    count = [0]

    def serve(request):
        url = urlsplit(request.url)
        if url.path == "/v1/session/actions":
            count[0] += 1
            if count[0] > 1:
                return 429, {"Retry-After": "0.001"}, json.dumps({"code": 1003, "message": "Rate limit exceeded"})
        body = json.loads(request.body) if request.body else None
        status, payload, headers = exchange.handle(request.method, url.path, dict(parse_qsl(url.query)),
                                                   request.headers, body)
        return status, headers, json.dumps(payload)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, re.compile(re.escape(SANDBOX) + r"/.*"), callback=serve)
        with o2lite.Client(SANDBOX) as client:
            trader = client.trader(Wallet.generate(), pacing=False)
            trader.setup_account(fund=True)
            trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
            batch = trader.batch()
            for i in range(7):
                batch.place("FUEL/USDC", "Buy", "0.0110", str(10 + i))
            with pytest.raises(BatchIncomplete) as info:
                batch.send()
    assert len(info.value.landed) == 1 and len(info.value.not_sent) == 1
    assert isinstance(info.value.cause, RateLimited)
    assert count[0] == 1 + 1 + o2lite.pacing.RESENDS  # one landed, then one request tried 1 + RESENDS times


def test_cli_cancel_all_right_after_placing_meets_no_429(tmp_path, capsys, monkeypatch):
    from o2lite.cli.main import main

    with Sandbox(rate_limits=True, faucet_cooldown=0) as sx:  # `o2lite sandbox` enforces the limits by default
        monkeypatch.setenv("O2LITE_URL", sx.url)
        monkeypatch.setenv("O2LITE_KEY_FILE", str(tmp_path / "k.json"))
        assert main(["wallet", "new", "--out", str(tmp_path / "k.json")]) == 0
        assert main(["setup", "--fund"]) == 0 and main(["session", "open", "--markets", "FUEL/USDC"]) == 0
        with o2lite.Client(sx.url) as client:
            trader = client.trader(Wallet(json.load(open(tmp_path / "k.json"))["private_key"]))
            trader.load_session(str(tmp_path / "k.json") + ".session.json")
            for i in range(12):  # in this process, so the CLI below starts with a full window
                trader.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
        capsys.readouterr()
        assert main(["order", "cancel-all", "FUEL/USDC"]) == 0, capsys.readouterr().err
        out = capsys.readouterr()
        assert "rate limited" not in out.err and "partial" not in out.err and out.out.count("0x") == 3


def test_threads_share_one_window_and_never_exceed_it():
    import threading
    import time as real_time

    window = RateWindow(3, 0.05)  # real time, small window: 4 threads × 3 requests, bounded by count
    spans, guard = [], threading.Lock()

    def worker():
        for _ in range(3):
            with window.slot():
                start = real_time.monotonic()
                real_time.sleep(0.001)
            with guard:
                spans.append((start, real_time.monotonic()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans.sort()
    assert len(spans) == 12
    for i, (start, _) in enumerate(spans):
        # no more than 3 requests began within any 0.05 s span (the window's own clock)
        assert sum(1 for s, _ in spans if start <= s < start + 0.05 - 1e-3) <= 3


def test_the_benches_measure_an_unpaced_client():
    """Pacing is on by default; a bench that forgot it would report 5 orders/s and measure a
    client that never has two requests in flight (README "Signing, speed")."""
    import ast
    import pathlib

    for name in ("client.py", "throughput.py"):
        tree = ast.parse((pathlib.Path(__file__).parent / "bench" / name).read_text())
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == "trader"]
        assert calls, name
        for call in calls:
            assert any(k.arg == "pacing" and isinstance(k.value, ast.Constant) and k.value.value is False
                       for k in call.keywords), f"{name}:{call.lineno} places orders paced"


def test_the_sandbox_retry_after_is_never_too_early():
    """A client that waits exactly Retry-After must be let through: rounded to 3 decimals
    *down* (0.1234568 → "0.123"), it came back 0.5 ms early and met a second 429."""
    from o2lite.sandbox.errors import ApiError
    from o2lite.sandbox.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(lambda: now[0])
    headers = {"o2-owner-id": "0x" + "11" * 32}
    for _ in range(5):
        limiter.check("POST", "/v1/session/actions", headers)
    now[0] = 0.8765432
    with pytest.raises(ApiError) as refused:
        limiter.check("POST", "/v1/session/actions", headers)
    now[0] += float(refused.value.headers["Retry-After"])
    limiter.check("POST", "/v1/session/actions", headers)  # no second 429

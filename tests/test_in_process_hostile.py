"""Review of issue 23: the in-process sandbox under hostile requests, a stopped sandbox, and the
"was it sent?" rule when the sandbox fails after applying a write.

Each request is asked of a served sandbox and of an in-process one: the answers must agree.
"""

from __future__ import annotations

import pytest
import requests

import o2lite
import o2lite.transport
from o2lite._in_process import in_process_session
from o2lite.sandbox import Sandbox
from o2lite.transport import Submission

SUBMISSION = Submission(7, "sequential", "0x" + "ac" * 32)
_VOLATILE = {"date", "server", "connection", "content-length"}  # the wire's own; Content-Length of a 204 too

HOSTILE = [
    ("DELETE", "/v1/markets", {}, b""),
    ("DELETE", "/v1/nowhere", {}, b""),
    ("PATCH", "/v1/session", {}, b"{}"),
    ("TRACE", "/v1/markets", {}, b""),
    ("OPTIONS", "/v1/session/actions", {"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type,o2-owner-id"}, b""),
    ("OPTIONS", "/v1/nowhere", {}, b""),
    ("GET", "/v1/markets?" + "&".join(f"p{i}=1" for i in range(51)), {}, b""),
    ("POST", "/v1/accounts?" + "&".join(f"p{i}=1" for i in range(51)), {}, b"{}"),
    ("GET", "/v1/markets?x=" + "a" * 70_000, {}, b""),
    ("GET", "/v1/markets", {"X-Big": "a" * 70_000}, b""),
    ("GET", "/v1/markets", {f"X-H{i}": "1" for i in range(120)}, b""),
]


def _ask(session: requests.Session, base: str, method: str, target: str, headers: dict, body: bytes):
    response = session.request(method, base + target, headers=headers, data=body)
    kept = {k.lower(): v for k, v in response.headers.items() if k.lower() not in _VOLATILE}
    return response.status_code, response.content, kept


def test_hostile_requests_get_the_served_answers_in_process():
    with Sandbox() as served, Sandbox(in_process=True) as local, requests.Session() as plain:
        session = in_process_session(local.url)
        for method, target, headers, body in HOSTILE:
            over_http = _ask(plain, served.url, method, target, headers, body)
            in_process = _ask(session, local.url, method, target, headers, body)
            assert in_process == over_http, (method, target[:60])


def test_too_many_query_parameters_are_a_400_not_an_internal_error(caplog):
    with Sandbox(in_process=True) as sandbox:
        answer = in_process_session(sandbox.url).get(sandbox.url + "/v1/markets?" + "&".join(
            f"p{i}=1" for i in range(51)))
    assert answer.status_code == 400 and "query" in answer.json()["message"]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for a client's mistake


def test_a_head_request_gets_no_body_in_process():
    with Sandbox(in_process=True) as sandbox:
        answer = in_process_session(sandbox.url).head(sandbox.url + "/v1/markets")
    assert answer.status_code == 405 and answer.content == b""


# --- a stopped sandbox -------------------------------------------------------------------------

def test_a_stopped_sandbox_answers_no_client_that_was_made_while_it_ran():
    sandbox = Sandbox(in_process=True).start()
    client = o2lite.Client(sandbox.url, retries=1)
    assert client.transport.request("GET", "/v1/markets")
    sandbox.stop()
    with pytest.raises(o2lite.O2ConnectionError, match="refused") as caught:  # as a stopped server
        client.transport.request("GET", "/v1/markets")
    assert not isinstance(caught.value, o2lite.SubmissionUnknown)
    with pytest.raises(o2lite.O2ConnectionError) as write:  # nothing was sent: a certain refusal
        client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
    assert not isinstance(write.value, o2lite.SubmissionUnknown)
    sandbox.start()
    assert client.transport.request("GET", "/v1/markets")  # started again: answered again
    sandbox.stop()
    client.close()


def test_under_emscripten_a_stopped_in_process_sandbox_is_still_a_certain_refusal(monkeypatch):
    with Sandbox(in_process=True) as sandbox:
        client = o2lite.Client(sandbox.url)
    monkeypatch.setattr(o2lite.transport, "EMSCRIPTEN", True)
    with pytest.raises(o2lite.O2ConnectionError) as write:  # no fetch involved: o2lite knows
        client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
    assert not isinstance(write.value, o2lite.SubmissionUnknown)
    client.close()


# --- "was it sent?" when the sandbox fails after applying a write --------------------------------

@pytest.mark.parametrize("in_process", [True, False])
def test_an_applied_write_whose_state_file_fails_is_not_a_definite_refusal(tmp_path, in_process):
    folder = tmp_path / "state"
    folder.mkdir()
    with Sandbox(in_process=in_process, state=str(folder / "state.json")) as sandbox, \
            o2lite.Client(sandbox.url) as client:
        trader = client.trader(o2lite.Wallet.generate())
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"])
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()  # from now on the state file cannot be written
        with pytest.raises(o2lite.SubmissionUnknown) as caught:
            trader.place("FUEL/USDC", "Buy", "0.0120", "100")
        assert caught.value.status == 500
        assert len(trader.open_orders("FUEL/USDC")) == 1  # it was applied: reconcile finds it


def test_a_sandbox_bug_on_a_write_reads_as_may_have_run_and_on_a_read_as_a_coded_500(monkeypatch):
    with Sandbox(in_process=True) as sandbox, o2lite.Client(sandbox.url, retries=1) as client:
        def broken(*args, **kwargs):
            raise RuntimeError("a bug half-way through a request")
        monkeypatch.setattr(sandbox.exchange, "handle", broken)
        with pytest.raises(o2lite.SubmissionUnknown):
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        with pytest.raises(o2lite.O2Error) as read:
            client.transport.request("GET", "/v1/markets")
        assert read.value.status == 500 and read.value.code == 1000


# --- the rate limiter's memory ------------------------------------------------------------------

def test_the_rate_limiter_forgets_idle_callers_and_keeps_no_huge_key():
    from o2lite.sandbox.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(lambda: now[0])
    for i in range(5000):  # 5000 distinct owners, one every 0.1 s: at most 600 inside a 60 s window
        now[0] += 0.1
        limiter.check("POST", "/v1/accounts/x", {"o2-owner-id": f"0x{i:064x}"})
    assert len(limiter._hits) <= 2 * 1024
    limiter.check("PUT", "/v1/session", {"o2-owner-id": "0x" + "ab" * 30_000})  # a 60 kB garbage id
    assert max(len(key) for _, key in limiter._hits) <= 200
    with pytest.raises(Exception, match="Rate limit"):  # the limit itself still counts per owner
        for _ in range(11):
            limiter.check("POST", "/v1/accounts/x", {"o2-owner-id": "0x01"})


@pytest.mark.parametrize("in_process", [True, False])
def test_an_answer_the_sandbox_cannot_encode_is_a_lost_answer_not_a_stray_error(monkeypatch, in_process):
    with Sandbox(in_process=in_process) as sandbox, o2lite.Client(sandbox.url, retries=1) as client:
        monkeypatch.setattr(sandbox.exchange, "handle", lambda *args, **kwargs: (200, {"tx_id": object()}, {}))
        with pytest.raises(o2lite.SubmissionUnknown, match="answer after sending"):  # served: the connection drops
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)

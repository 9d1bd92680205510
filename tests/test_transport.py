"""Transport: what is sent, error bodies of every kind, retries (GET only), logging."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from responses import matchers

import o2lite
from o2lite import _answers, errors

from .conftest import BASE


@pytest.fixture
def transport(mocked, sleeps):
    return o2lite.Client("testnet", sleep=sleeps.append).transport


def test_sends_user_agent_params_and_timeout(mocked, transport):
    mocked.get(BASE + "/v1/x", json={"ok": 1}, match=[
        matchers.query_param_matcher({"a": "1"}),
        matchers.header_matcher({"User-Agent": f"o2lite/{o2lite.__version__}"}),
        matchers.request_kwargs_matcher({"timeout": (5.0, 30.0)})])
    assert transport.request("GET", "/v1/x", params={"a": "1", "b": None}) == {"ok": 1}


def test_per_call_timeout(mocked, transport):
    mocked.get(BASE + "/v1/x", json={}, match=[matchers.request_kwargs_matcher({"timeout": 2})])
    transport.request("GET", "/v1/x", timeout=2)


def test_custom_url_and_own_session(mocked):
    own = requests.Session()
    mocked.get("http://127.0.0.1:8080/v1/x", json=[1])
    client = o2lite.Client("http://127.0.0.1:8080/", session=own)
    assert client.transport.session is own
    assert client.transport.request("GET", "v1/x") == [1]
    client.close()  # does not close a session it does not own


def test_prepared_copies_carry_each_calls_own_headers_and_body(mocked, transport):
    # Requests are copied from cached templates: each copy must still carry its own header
    # values, body and Content-Length, and never leak into the next call's.
    mocked.post(BASE + "/v1/y", json={"ok": 1})
    for owner, body in (("0x" + "aa" * 32, {"n": "1"}), ("0x" + "bb" * 32, {"n": "22", "x": [1]}),
                        ("0x" + "aa" * 32, {"n": "333"})):
        transport.request("POST", "/v1/y", json_body=body, headers={"O2-Owner-Id": owner})
        sent = mocked.calls[-1].request
        raw = json.dumps(body, separators=(",", ":")).encode()
        assert sent.body == raw and sent.headers["Content-Length"] == str(len(raw))
        assert sent.headers["O2-Owner-Id"] == owner and sent.headers["Content-Type"] == "application/json"
    mocked.get(BASE + "/v1/y2", json={})
    transport.request("GET", "/v1/y2")
    assert "Content-Length" not in mocked.calls[-1].request.headers and mocked.calls[-1].request.body is None


def test_credentials_in_the_base_url_are_sent_on_every_call(mocked):
    mocked.post("http://ann:secret@127.0.0.1:8080/v1/x", json={"ok": 1})
    client = o2lite.Client("http://ann:secret@127.0.0.1:8080")
    for _ in range(2):
        client.transport.request("POST", "/v1/x", json_body={"a": "1"})
        assert mocked.calls[-1].request.headers["Authorization"] == "Basic YW5uOnNlY3JldA=="
    client.close()


def test_get_follows_a_redirect_but_a_write_never_does(mocked, transport):
    mocked.get(BASE + "/v1/old", status=301, headers={"Location": BASE + "/v1/new"})
    mocked.get(BASE + "/v1/new", json={"moved": True})
    assert transport.request("GET", "/v1/old") == {"moved": True}
    mocked.post(BASE + "/v1/old", status=307, headers={"Location": BASE + "/v1/new"})
    with pytest.raises(o2lite.O2Error, match="redirected to"):
        transport.request("POST", "/v1/old", json_body={"a": "1"})
    assert [c.request.method for c in mocked.calls] == ["GET", "GET", "POST"]


def test_unknown_network_rejected():
    with pytest.raises(o2lite.ValidationError, match="unknown network"):
        o2lite.Client("moonnet")


@pytest.mark.parametrize("status, body, cls, code", [
    (400, {"code": 2000, "message": "Market not found"}, errors.NotFound, 2000),
    (400, {"code": 4000, "message": "Invalid signature"}, errors.InvalidSignature, 4000),
    (400, {"code": 4001, "message": "Invalid session"}, errors.SessionInvalid, 4001),
    (400, {"code": 7004, "message": "Too many actions"}, errors.InvalidRequest, 7004),
    (200, {"code": 3002, "message": "Invalid order params"}, errors.OrderRejected, 3002),
    (400, {"message": "Revert(123)", "reason": "selector mismatch", "receipts": [{"id": 1}]},
     errors.TransactionReverted, None),
    (400, {"code": 1000, "message": "Failed to process transaction", "reason": {"panic": "x"}, "receipts": None},
     errors.TransactionReverted, 1000),
    (400, {"error": "cooldown"}, errors.InvalidRequest, None),
    (200, {"error": "boom"}, errors.O2Error, None),
    (400, {"code": 1001, "message": "Parallel nonce is not usable: nonce already used"}, errors.NonceRejected, 1001),
    (400, {"message": "Invalid session address"}, errors.SessionInvalid, None),
])
def test_error_bodies(mocked, transport, status, body, cls, code):
    mocked.post(BASE + "/v1/x", status=status, json=body)
    with pytest.raises(cls) as info:
        transport.request("POST", "/v1/x", json_body={"a": 1})
    err = info.value
    assert type(err) is cls
    assert (err.status, err.code, err.method) == (status, code, "POST")
    assert err.url == BASE + "/v1/x" and err.body == body
    assert err.raw_reason == body.get("reason") and err.receipts == body.get("receipts")


def test_nonce_rejection_retryable_flag(mocked, transport):
    mocked.post(BASE + "/v1/x", status=400, json={"code": 1001, "message": "Parallel nonce is not usable: nonce expired"})
    with pytest.raises(errors.NonceRejected) as info:
        transport.request("POST", "/v1/x", json_body={})
    assert info.value.retryable


def test_non_json_502_snippet(mocked, transport):
    page = "<html>" + "bad gateway " * 50 + "</html>"
    mocked.post(BASE + "/v1/x", status=502, body=page)
    with pytest.raises(o2lite.O2Error) as info:
        transport.request("POST", "/v1/x", json_body={})
    assert info.value.status == 502 and info.value.body == page[:200]
    assert len(mocked.calls) == 1


def test_non_json_200_is_an_error(mocked, transport):
    mocked.get(BASE + "/v1/x", status=200, body="not json")
    with pytest.raises(o2lite.O2Error, match="malformed response") as info:
        transport.request("GET", "/v1/x")
    assert info.value.status == 200 and info.value.body == "not json"


def test_get_retried_with_backoff_then_succeeds(mocked, transport, sleeps):
    mocked.get(BASE + "/v1/x", status=503, body="busy")
    mocked.get(BASE + "/v1/x", status=429, json={"code": 1003, "message": "slow down"}, headers={"Retry-After": "2"})
    mocked.get(BASE + "/v1/x", json={"ok": True})
    assert transport.request("GET", "/v1/x") == {"ok": True}
    assert len(mocked.calls) == 3
    assert 0 < sleeps[0] <= 0.5 and sleeps[1] == 2.0  # jittered backoff, then Retry-After honoured


def test_code_1003_under_200_is_rate_limited(mocked, transport, sleeps):
    mocked.get(BASE + "/v1/x", status=200, json={"code": 1003, "message": "Rate limit exceeded"})
    with pytest.raises(o2lite.RateLimited) as info:
        transport.request("GET", "/v1/x")
    assert len(mocked.calls) == 3 and len(sleeps) == 2 and info.value.code == 1003


def test_get_gives_up_after_attempts(mocked, transport, sleeps):
    mocked.get(BASE + "/v1/x", status=504, body="timeout")
    with pytest.raises(o2lite.O2Error) as info:
        transport.request("GET", "/v1/x")
    assert info.value.status == 504 and len(mocked.calls) == 3 and len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 0.9 or sleeps[1] >= 0.5  # grows


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("status", [429, 502, 503])
def test_writes_never_retried(mocked, transport, sleeps, method, status):
    mocked.add(method, BASE + "/v1/x", status=status, json={"message": "nope"})
    with pytest.raises(o2lite.O2Error):
        transport.request(method, "/v1/x", json_body={"signature": {"Secp256k1": "0x" + "11" * 64}})
    assert len(mocked.calls) == 1 and sleeps == []


def test_connection_errors(mocked, transport, sleeps):
    mocked.get(BASE + "/v1/x", body=requests.ConnectionError("reset by peer"))
    with pytest.raises(o2lite.O2ConnectionError) as info:
        transport.request("GET", "/v1/x")
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert len(mocked.calls) == 3
    mocked.post(BASE + "/v1/y", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(o2lite.O2ConnectionError) as info:
        transport.request("POST", "/v1/y", json_body={})
    assert info.value.may_have_landed and len(mocked.calls) == 4


def test_debug_log_abbreviates_signatures(mocked, transport, caplog):
    mocked.post(BASE + "/v1/x", json={"tx_id": "0x1"})
    sig = "0x" + "ab" * 64
    with caplog.at_level(logging.DEBUG, logger="o2lite"):
        transport.request("POST", "/v1/x", json_body={"signature": {"Secp256k1": sig}, "nonce": "1"})
    text = caplog.text
    assert "POST /v1/x -> 200" in text and " ms" in text
    assert sig not in text and sig[:10] in text


def test_error_str_is_informative():
    err = _answers.error_from_response(400, {"code": 2000, "message": "Market not found"}, method="GET", url="u")
    assert str(err) == "Market not found (code 2000, HTTP 400, GET u)"


def test_per_call_timeout_through_client(mocked, client):
    mocked.get(BASE + "/v1/depth", json={"buys": [], "sells": []},
               match=[matchers.request_kwargs_matcher({"timeout": 1.5})])
    with client.timeout(1.5):
        client.markets.depth("FUEL/USDC")
    mocked.get(BASE + "/v1/markets/ticker", json={}, match=[matchers.request_kwargs_matcher({"timeout": (5.0, 30.0)})])
    client.markets.ticker("FUEL/USDC")  # back to the default outside the block

"""FastBridgeClient on the wire, against a loopback stub (a real HTTP server on 127.0.0.1).

What is proved: one request per call (no retry of any kind, GET or POST, even after a 5xx or a
dropped connection); a 3xx is an error and its ``Location`` is never visited; o2-sdk 0.5.0's error
mapping of bad and non-JSON answers (``o2_sdk/bridge/client.py``); an ambiguous submit raises
``BridgeSubmissionUnknown`` with what is needed to reconcile.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import pytest

from o2lite.bridge import BridgeApiError, BridgeSubmissionUnknown, FastBridgeClient
from o2lite.bridge import models as m
from o2lite.bridge import wire
from o2lite.bridge.evm import deposit_transaction_hash
from o2lite.errors import O2ConnectionError, SubmissionUnknown, ValidationError

from .test_bridge_vectors import HTTP, TX

DEPOSIT = TX["evm"][0]
SUBMIT = m.SubmitRequest(preparation_proof=TX["proofs"][0]["proof"], unsigned_transaction=DEPOSIT["unsignedTransaction"],
                         signature=DEPOSIT["signature"])
INFO = HTTP[0]["response"]

#: (status, raw body or None to drop the connection, extra headers)
Reply = Tuple[int, Optional[bytes], Dict[str, str]]


class Stub:
    """Serves one scripted reply per path and records every request it receives."""

    def __init__(self) -> None:
        self.replies: Dict[str, Reply] = {}
        self.seen: List[Tuple[str, str, bytes]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.seen.append((self.command, self.path, body))
                status, raw, headers = stub.replies.get(self.path.split("?")[0], (404, b'{"error": {}}', {}))
                if raw is None:  # drop the connection without an answer
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, path: str, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
        raw = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        self.replies[path] = (status, raw, headers or {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def _server():
    s = Stub()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def stub(_server):
    _server.replies.clear()
    _server.seen.clear()
    return _server


@pytest.fixture
def client(stub):
    with FastBridgeClient(stub.url + "/prefix", timeout=5) as c:
        yield c


def test_a_good_answer_is_one_get_under_the_path_prefix(stub, client):
    stub.reply("/prefix/v1/info", 200, INFO)
    assert client.get_info().preparation_proof_ttl_seconds == 1
    assert [(method, path) for method, path, _ in stub.seen] == [("GET", "/prefix/v1/info")]


def test_query_values_are_str_and_none_is_left_out(stub, client):
    stub.reply("/prefix/v1/deposit/info", 200, HTTP[2]["response"])
    client.get_deposit_info(8453)
    client.get_deposit_info(8453, "0x" + "ab" * 32, "5")
    assert [p for _, p, _ in stub.seen] == ["/prefix/v1/deposit/info?sourceChainId=8453",
                                           "/prefix/v1/deposit/info?sourceChainId=8453&assetId=0x" + "ab" * 32 + "&amount=5"]


def test_a_redirect_is_an_error_and_never_followed(stub, client):
    stub.reply("/prefix/v1/info", 302, b"", {"Location": "/elsewhere"})
    stub.reply("/elsewhere", 200, INFO)
    with pytest.raises(BridgeApiError) as info:
        client.get_info()
    assert (info.value.status, info.value.bridge_code) == (302, "INVALID_RESPONSE")  # empty body: not JSON
    stub.reply("/prefix/v1/info", 307, {"moved": True}, {"Location": "/elsewhere"})
    with pytest.raises(BridgeApiError) as info:
        client.get_info()
    assert (info.value.status, info.value.bridge_code, info.value.message) == (307, "HTTP_ERROR", "Bridge request failed")
    assert [p for _, p, _ in stub.seen] == ["/prefix/v1/info", "/prefix/v1/info"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_no_retry_after_a_server_error_even_for_a_get(stub, client, status):
    stub.reply("/prefix/v1/info", status, b"<html>bad gateway</html>", {"Retry-After": "0"})
    with pytest.raises(BridgeApiError) as info:
        client.get_info()
    assert (info.value.status, info.value.bridge_code) == (status, "INVALID_RESPONSE")
    assert len(stub.seen) == 1


def test_a_dropped_get_is_a_connection_error_after_one_attempt(stub, client):
    stub.reply("/prefix/v1/info", 200, None)
    with pytest.raises(O2ConnectionError):
        client.get_info()
    assert len(stub.seen) == 1


def test_a_dropped_submit_may_have_been_accepted_and_says_how_to_check(stub, client):
    stub.reply("/prefix/v1/deposit/submit", 202, None)
    with pytest.raises(BridgeSubmissionUnknown) as info:
        client.submit_deposit(SUBMIT)
    err = info.value
    assert len(stub.seen) == 1 and json.loads(stub.seen[0][2]) == SUBMIT.to_json()
    assert isinstance(err, SubmissionUnknown) and isinstance(err, BridgeApiError)
    assert (err.bridge_code, err.operation, err.source_chain_id) == ("NO_RESPONSE", "deposit", 11155111)
    assert err.evm_tx_hash == deposit_transaction_hash(DEPOSIT["unsignedTransaction"], DEPOSIT["signature"])
    assert "may have been accepted" in str(err) and err.evm_tx_hash in str(err)


@pytest.mark.parametrize("status,body,code", [
    (502, b"bad gateway", "INVALID_RESPONSE"),
    (500, {"error": {"code": "INTERNAL", "message": "boom"}}, "INTERNAL"),
    (202, b"not json", "INVALID_RESPONSE"),
    (202, [1], "INVALID_RESPONSE"),
    (202, {"status": "submitted"}, "INVALID_RESPONSE"),
])
def test_an_unreadable_or_5xx_submit_is_ambiguous_with_the_official_code(stub, client, status, body, code):
    stub.reply("/prefix/v1/withdraw/submit", status, body)
    with pytest.raises(BridgeSubmissionUnknown) as info:
        client.submit_withdraw(SUBMIT)
    assert (info.value.status, info.value.bridge_code, info.value.operation) == (status, code, "withdraw")
    assert len(stub.seen) == 1


def test_a_refused_submit_is_a_plain_bridge_error(stub, client):
    stub.reply("/prefix/v1/deposit/submit", 400, {"error": {"code": "INVALID_SIGNATURE", "message": "bad sig",
                                                           "details": {"field": "signature"}}})
    with pytest.raises(BridgeApiError) as info:
        client.submit_deposit(SUBMIT)
    assert not isinstance(info.value, SubmissionUnknown)
    assert (info.value.status, info.value.bridge_code, info.value.message, info.value.details) == (
        400, "INVALID_SIGNATURE", "bad sig", {"field": "signature"})


def test_connection_refused_is_not_ambiguous():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with FastBridgeClient(f"http://127.0.0.1:{port}", timeout=5) as client:
        with pytest.raises(O2ConnectionError) as info:
            client.submit_deposit(SUBMIT)
    assert not isinstance(info.value, SubmissionUnknown)


#: o2-sdk 0.5.0's mapping: (status, body) → (bridge code, message, details)
MAPPING = [
    (404, {"error": {"code": "TRANSACTION_NOT_FOUND", "message": "not yet"}}, ("TRANSACTION_NOT_FOUND", "not yet", None)),
    (400, {"error": {"code": "X", "message": "m", "details": [1, 2]}}, ("X", "m", [1, 2])),
    (400, {"error": "flat text"}, ("HTTP_ERROR", "Bridge request failed", None)),
    (400, {"error": {"code": 7, "message": 8, "details": "d"}}, ("HTTP_ERROR", "Bridge request failed", "d")),
    (400, {"message": "no error object"}, ("HTTP_ERROR", "Bridge request failed", None)),
    (400, [1, 2], ("HTTP_ERROR", "Bridge request failed", None)),
    (400, b"plain text", ("INVALID_RESPONSE", "Bridge returned non-JSON response", None)),
    (403, b"", ("INVALID_RESPONSE", "Bridge returned non-JSON response", None)),
    (200, b"{", ("INVALID_RESPONSE", "Bridge returned non-JSON response", None)),
    (200, b"\xff\xfe", ("INVALID_RESPONSE", "Bridge returned non-JSON response", None)),
    (200, [INFO], ("INVALID_RESPONSE", "Bridge response must be an object", None)),
    (200, "text", ("INVALID_RESPONSE", "Bridge response must be an object", None)),
    (200, {"environment": "x"}, ("INVALID_RESPONSE", "Malformed bridge response", None)),
    (200, dict(INFO, chains="none"), ("INVALID_RESPONSE", "Malformed bridge response", None)),
    (200, dict(INFO, fuel=[]), ("INVALID_RESPONSE", "Malformed bridge response", None)),
]


@pytest.mark.parametrize("status,body,want", MAPPING)
def test_the_official_error_mapping(stub, client, status, body, want):
    stub.reply("/prefix/v1/info", status, body)
    with pytest.raises(BridgeApiError) as info:
        client.get_info()
    err = info.value
    assert (err.bridge_code, err.message.split(":")[0], err.details) == want
    assert err.status == status and err.method == "GET" and err.url.endswith("/prefix/v1/info")
    assert len(stub.seen) == 1


def test_unknown_keys_are_ignored(stub, client):
    stub.reply("/prefix/v1/info", 200, dict(INFO, future={"x": 1}))
    assert client.get_info().environment == "test"


@pytest.mark.parametrize("url", ["ftp://x", "https://", "https://h/?q=1", "https://h/#f", "https://u:p@h", "devnet", 7])
def test_bad_base_urls_are_refused_before_any_request(url):
    with pytest.raises(ValidationError):
        FastBridgeClient(url)


def test_network_names():
    assert FastBridgeClient("mainnet").base_url == "https://bridge.o2.app"
    assert FastBridgeClient("https://bridge.o2.app/").base_url == "https://bridge.o2.app"


def test_bad_requests_are_refused_before_any_request():
    with pytest.raises(ValidationError):
        m.DepositPrepareRequest(source_chain_id="8453", from_address="0x", to="0x", to_type="address", asset_id="0x",
                                amount="1")
    with pytest.raises(ValidationError):
        m.DepositPrepareRequest(source_chain_id=8453, from_address="0x", to="0x", to_type="wallet", asset_id="0x",
                                amount="1")
    with pytest.raises(ValidationError):
        m.WithdrawPrepareRequest(destination_chain_id=8453, from_address="0x", to="0x", asset_id="0x", amount="1.5")


def _mutate(value, rng):
    """One hostile change somewhere in a JSON answer."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(sorted(value))
        out = dict(value)
        choice = rng.randrange(4)
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = rng.choice([None, True, -1, 2**70, "", "x" * 300, [], {}, 1.5, "0x" + "ff" * 40])
        else:
            out[key] = _mutate(value[key], rng)
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        return value[:i] + [_mutate(value[i], rng)] + value[i + 1:]
    return rng.choice([None, 0, "", [], {}, "text", 10**80, False])


def test_hostile_answers_give_a_result_or_a_bridge_error_only():
    import random

    import responses as responses_lib

    from .test_bridge_vectors import _call

    rng = random.Random(2424)
    outcomes = {"ok": 0, "error": 0}
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps, \
            FastBridgeClient("https://bridge.test") as client:
        for _ in range(400):
            case = rng.choice(HTTP)
            rsps.reset()
            status = rng.choice([200, 200, 202, 400, 404, 500])
            body = _mutate(case["response"], rng)
            rsps.add(case["method"], "https://bridge.test" + case["path"], body=json.dumps(body), status=status)
            try:
                _call(client, case)
                outcomes["ok"] += 1
            except BridgeApiError as exc:
                assert exc.bridge_code and exc.status == status
                outcomes["error"] += 1
    assert outcomes["ok"] > 20 and outcomes["error"] > 200


def test_threads_sharing_a_fresh_client_share_one_session(monkeypatch):
    import time

    import requests

    made: List[Any] = []
    original = requests.Session.__init__

    def slow_init(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        time.sleep(0.005)  # widens the window the lazy creation must guard; not a timing assertion
        original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "__init__", slow_init)
    for _ in range(5):
        made.clear()
        client = FastBridgeClient("http://127.0.0.1:9")
        barrier = threading.Barrier(4)
        sessions: List[Any] = []

        def first_use() -> None:
            barrier.wait()
            sessions.append(client._http())

        threads = [threading.Thread(target=first_use) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        assert len(made) == 1 and all(s is made[0] for s in sessions)  # before: a session per thread, leaked


def test_a_long_answer_resolves_each_model_schema_once(monkeypatch):
    """Resolving type hints per object made a hostile 5 MiB /v1/assets answer cost ~12 s of CPU."""
    import typing

    calls: List[Any] = []

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(cls)
        return typing.get_type_hints(cls, *args, **kwargs)

    monkeypatch.setattr(wire, "get_type_hints", counting)  # the models' reading machinery
    monkeypatch.setattr(wire, "_SCHEMAS", {})
    route = {"chainId": 1, "tokenAddress": None, "tokenDecimals": 6}
    asset = {"assetId": "0x" + "22" * 32, "symbol": "X", "fuelDecimals": 9, "routes": [route] * 20}
    parsed = m.AssetsResponse.from_json({"configVersion": "1", "assets": [asset] * 50})
    assert len(parsed.assets) == 50 and len(parsed.assets[49].routes) == 20
    assert sorted(c.__name__ for c in calls) == ["Asset", "AssetRoute", "AssetsResponse"]  # before: 1,051 calls

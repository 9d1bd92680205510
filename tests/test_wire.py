"""What o2lite's own session puts on a real socket: exact bytes, one write per request, kept-alive
connections, and the promises of a signed call when a real server goes silent or hangs up —
on both HTTP paths (o2lite's ``http.client`` pool and ``requests``), which must agree byte for byte.

A small stdlib server on loopback records every request as it arrives; no mocks in between.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

import o2lite
from o2lite.transport import Submission


class RawServer:
    """Reads whole HTTP/1.1 requests and answers each with ``answer(request_bytes)``: bytes to
    send, ``b""`` to hang up, or ``None`` to say nothing (the client's read timeout decides).
    ``close_after_answer`` closes each connection after its first answer, as a server whose
    keep-alive timer ran out does."""

    def __init__(self, answer: Callable[[bytes], Optional[bytes]], close_after_answer: bool = False) -> None:
        self.answer, self.close_after_answer = answer, close_after_answer
        self.requests: List[bytes] = []
        self.connections = self.closed = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._exchange(conn)
        finally:
            conn.close()
            self.closed += 1

    def _exchange(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                rest += conn.recv(65536)
            request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
            self.requests.append(request)
            reply = self.answer(request)
            if reply is None:
                self.done.wait(10)
            if not reply:
                return
            conn.sendall(reply)
            if self.close_after_answer:
                return

    def close(self) -> None:
        self.done.set()
        self.sock.close()


def ok(body: Dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data)


@pytest.fixture
def serve():
    servers: List[RawServer] = []

    def start(answer: Callable[[bytes], Optional[bytes]], **options: Any) -> RawServer:
        servers.append(RawServer(answer, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(params=["stdlib", "requests"])
def path(request):
    """Which HTTP path o2lite's own session takes: its ``http.client`` pool, or ``requests``."""
    return request.param


def client_on(path: str, url: str, **options: Any) -> o2lite.Client:
    """A client of ``url`` whose own session sends through ``path``."""
    return o2lite.Client(url, stdlib_http=path == "stdlib", **options)


@pytest.fixture
def writes(monkeypatch):
    """Every request write o2lite's connections make to a socket (answers are left out)."""
    seen: List[bytes] = []
    original = socket.socket.sendall

    def sendall(self: Any, data: Any, *args: Any) -> None:
        if not bytes(data[:9]) == b"HTTP/1.1 ":
            seen.append(bytes(data))
        original(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", sendall)
    return seen


def test_each_request_is_one_exact_write_on_one_kept_alive_connection(serve, writes, path):
    server = serve(lambda request: ok({"tx_id": "0x" + "ab" * 32} if request.startswith(b"POST") else {"n": 1}))
    with client_on(path, server.url) as client:
        t = client.transport
        body = {"actions": [{"x": "1"}], "nonce": "7"}
        for i in range(3):
            assert t.request("POST", "/v1/session/actions", json_body=body, headers={"O2-Owner-Id": "0x" + "cd" * 32},
                             submission=Submission(7, "sequential", None)) == {"tx_id": "0x" + "ab" * 32}
            assert t.request("GET", "/v1/x", params={"a": i}) == {"n": 1}
    assert server.connections == 1
    assert len(writes) == len(server.requests) == 6 and writes == server.requests  # one write each, as received
    post, get = server.requests[0], server.requests[1]
    head, _, sent = post.partition(b"\r\n\r\n")
    assert sent == json.dumps(body, separators=(",", ":")).encode()
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/session/actions HTTP/1.1"
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    assert headers[b"content-length"] == str(len(sent)).encode() and headers[b"o2-owner-id"] == b"0x" + b"cd" * 32
    assert headers[b"content-type"] == b"application/json" and headers[b"user-agent"].startswith(b"o2lite/")
    assert b"cookie" not in headers
    assert get.startswith(b"GET /v1/x?a=0 HTTP/1.1\r\n") and get.endswith(b"\r\n\r\n")


def test_a_silent_server_makes_a_signed_call_unknown_and_a_read_an_error(serve, path):
    server = serve(lambda request: None)
    # The read timeout (0.3 s) governs the wait for an answer, never the connect timeout (20 s),
    # on a fresh connection and on a reused one alike.
    with client_on(path, server.url, timeout=(20, 0.3), retries=2, sleep=lambda s: None) as client:
        started = time.monotonic()
        with pytest.raises(o2lite.SubmissionUnknown) as info:
            client.transport.request("POST", "/v1/session/actions", json_body={"a": "1"},
                                     submission=Submission(11, "parallel", "0x" + "ef" * 32))
        assert info.value.nonce == 11 and "read timeout" in str(info.value)
        with pytest.raises(o2lite.O2ConnectionError, match="did not answer in time"):
            client.transport.request("GET", "/v1/x")
        assert time.monotonic() - started < 10
    assert [r.split(b" ")[0] for r in server.requests] == [b"POST", b"GET", b"GET"]  # a write is never resent


def test_a_hang_up_after_the_request_makes_a_signed_call_unknown(serve, path):
    server = serve(lambda request: b"")  # reads the whole request, then closes without a word
    with client_on(path, server.url, retries=1) as client:
        with pytest.raises(o2lite.SubmissionUnknown) as info:
            client.transport.request("POST", "/v1/session/actions", json_body={"a": "1"},
                                     submission=Submission(3, "sequential", None))
        assert info.value.nonce == 3
    assert len(server.requests) == 1


def test_a_refused_connection_is_known_unsent(path):
    probe = socket.create_server(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d" % probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with client_on(path, url, retries=1) as client:
        with pytest.raises(o2lite.O2ConnectionError, match="connection refused") as info:
            client.transport.request("POST", "/v1/session/actions", json_body={"a": "1"},
                                     submission=Submission(5, "sequential", None))
    assert not isinstance(info.value, o2lite.SubmissionUnknown) and info.value.may_have_landed is False


def test_a_connection_the_server_closed_while_idle_is_not_reused(serve, writes, path):
    server = serve(lambda request: ok({"tx_id": "0x" + "ab" * 32}), close_after_answer=True)
    with client_on(path, server.url) as client:
        for nonce in (1, 2, 3):
            client.transport.request("POST", "/v1/session/actions", json_body={"n": str(nonce)},
                                     submission=Submission(nonce, "sequential", None))
            deadline = time.monotonic() + 5
            while server.closed < nonce and time.monotonic() < deadline:
                time.sleep(0.005)  # until the server has closed this connection (its FIN is out)
    assert server.connections == 3 and len(server.requests) == 3 and len(writes) == 3  # each sent once


def test_both_paths_put_the_same_bytes_on_the_wire(serve):
    server = serve(lambda request: ok({"tx_id": "0x" + "ab" * 32}))
    url = server.url.replace("http://", "http://ann:s%40cret@")
    per_path = {}
    for path in ("stdlib", "requests"):
        before = len(server.requests)
        with client_on(path, url) as client:
            t = client.transport
            t.request("POST", "/v1/session/actions", json_body={"n": "1", "s": "é"}, headers={"O2-Owner-Id": "0xcd"})
            t.request("PUT", "/v1/session", json_body=[1, 2])
            t.request("GET", "/v1/x", params={"a": "b c/é", "d": ["1", "2"], "e": 5, "f": None})
            t.request("GET", "/v1/y?z=1", params={"a": "1"})
            t.request("GET", "/v1/y")
        per_path[path] = server.requests[before:]
    assert per_path["stdlib"] == per_path["requests"] and len(per_path["stdlib"]) == 5
    assert b"Authorization: Basic YW5uOnNAY3JldA==\r\n" in per_path["stdlib"][0]


#: (name, raw answer, expected error) for a signed POST over a real socket.
FAULTS = [
    ("hang up after the request", b"", o2lite.SubmissionUnknown),
    ("cut mid-body", b"HTTP/1.1 200 OK\r\nContent-Length: 90\r\n\r\n{\"tx_id\": \"0x", o2lite.SubmissionUnknown),
    ("cut answer saying 'refused'", b"HTTP/1.1 200 OK\r\nContent-Length: 90\r\n\r\nConnection refused",
     o2lite.SubmissionUnknown),  # issue 20: words in a broken answer once made this "never sent"
    ("cut chunked body", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n30\r\n{\"tx", o2lite.SubmissionUnknown),
    ("502 page", b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 9\r\n\r\n<html>bad", o2lite.SubmissionUnknown),
    ("504", b"HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 2\r\n\r\n{}", o2lite.SubmissionUnknown),
    ("truncated JSON 200", b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"tx_id\": 1", o2lite.SubmissionUnknown),
    ("non-JSON 200", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK", o2lite.SubmissionUnknown),
    ("200 without tx_id", ok({"status": "accepted"}), o2lite.SubmissionUnknown),
    ("307 redirect", b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/elsewhere\r\nContent-Length: 0\r\n\r\n",
     o2lite.O2Error),
    ("revert", ok({"message": "Revert(1)", "reason": "x", "receipts": []}).replace(b"200 OK", b"400 Bad Request"),
     o2lite.TransactionReverted),
    ("429", ok({"code": 1003, "message": "slow down"}).replace(b"200 OK", b"429 Too Many Requests\r\nRetry-After: nan"),
     o2lite.RateLimited),
    ("over the size limit", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n{", o2lite.SubmissionUnknown),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_signed_call_reaches_a_real_server_once_whatever_comes_back(serve, path, fault):
    from o2lite.models import TxResult

    name, answer, expected = fault
    assert len(answer) < 200 and (not answer or b"Content-Length" not in answer or answer.count(b"\r\n\r\n") == 1)
    server = serve(lambda request: answer, close_after_answer=True)
    with client_on(path, server.url, retries=3, sleep=lambda s: None) as client:
        with pytest.raises(expected) as info:
            client.transport.request("POST", "/v1/session/actions", json_body={"a": "1"},
                                     submission=Submission(9, "parallel", None),
                                     parse=lambda reply: TxResult.from_json(reply, "POST /v1/session/actions"))
    assert len(server.requests) == 1, f"{name}: the signed request was sent more than once"
    if expected is o2lite.SubmissionUnknown:
        assert info.value.nonce == 9 and info.value.nonce_kind == "parallel"
    else:
        assert not isinstance(info.value, o2lite.SubmissionUnknown)


@pytest.mark.parametrize("cut", [b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"n\": ",
                                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"n\": "],
                         ids=["content-length", "chunked"])
def test_a_get_cut_mid_body_is_retried(serve, path, cut):
    answers = [cut, cut, ok({"n": 1})]
    server = serve(lambda request: answers.pop(0), close_after_answer=True)
    sleeps: List[float] = []
    with client_on(path, server.url, retries=3, sleep=sleeps.append) as client:
        assert client.transport.request("GET", "/v1/x") == {"n": 1}
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_a_get_cut_every_time_is_a_connection_error(serve, path):
    server = serve(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{", close_after_answer=True)
    with client_on(path, server.url, retries=2, sleep=lambda s: None) as client:
        with pytest.raises(o2lite.O2ConnectionError, match="cut off") as info:
            client.transport.request("GET", "/v1/x")
    assert len(server.requests) == 2 and info.value.status == 200 and not info.value.may_have_landed


def cookie_server(request: bytes) -> bytes:
    """Sets a site-wide and a path-scoped cookie on the first answer; echoes what it got."""
    head = request.split(b"\r\n\r\n")[0].split(b"\r\n")
    sent = [line.partition(b":")[2].strip().decode() for line in head if line.lower().startswith(b"cookie:")]
    body = json.dumps({"cookie": sent}).encode()
    extra = b""
    if head[0].startswith(b"GET /v1/login"):
        extra = (b"Set-Cookie: lb=node-7; Path=/\r\nSet-Cookie: bot=ok; Path=/v1/session\r\n"
                 b"Set-Cookie: gone=1; Path=/; Max-Age=0\r\n")
    return b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(body), body)


def test_cookies_are_kept_and_sent_back_like_a_requests_session(serve, path):
    import requests

    server = serve(cookie_server)
    calls = [("GET", "/v1/login"), ("POST", "/v1/session/actions"), ("GET", "/v1/markets"), ("PUT", "/v1/session")]
    with client_on(path, server.url) as client:
        seen = [client.transport.request(m, p, json_body=None if m == "GET" else {"a": "1"})["cookie"]
                for m, p in calls]
    reference = requests.Session()
    expected = [reference.request(m, server.url + p, json=None if m == "GET" else {"a": "1"}).json()["cookie"]
                for m, p in calls]
    reference.close()
    assert seen == expected == [[], ["bot=ok; lb=node-7"], ["lb=node-7"], ["bot=ok; lb=node-7"]]

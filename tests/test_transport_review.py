"""Review of the lean HTTP path (issue 26) and the "was it sent?" rule: each test reproduces a
finding on a real loopback socket (or the answer reader on bytes) and fails without its fix."""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any, Callable, List

import pytest

import o2lite
from o2lite._response import Headers, read_body
from o2lite.transport import Submission

from .test_wire import RawServer, ok

SIGNED = Submission(5, "sequential", None)


@pytest.fixture(autouse=True)
def stdlib_default(monkeypatch):
    monkeypatch.delenv("O2LITE_STDLIB_HTTP", raising=False)


@pytest.fixture
def serve():
    servers: List[RawServer] = []

    def start(answer: Any, **options: Any) -> RawServer:
        servers.append(RawServer(answer, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("size", [b"-1", b"-10", b"+5", b"0x5", b"5_0", b"", b"1" * 17])
def test_a_chunk_size_must_be_plain_hex(size):
    """A negative chunk size made the reader ignore the 8 MiB limit and read on until the server
    closed (20 MiB here); sign, 0x, underscores and an empty size are not HTTP either."""
    raw = io.BytesIO(size + b"\r\n" + b"x" * (20 << 20))
    fp = io.BufferedReader(raw)
    with pytest.raises(Exception) as caught:
        read_body(fp, "GET", 200, True, Headers({"transfer-encoding": ["chunked"]}), 8 << 20, time.monotonic() + 60)
    assert not isinstance(caught.value, (AssertionError, MemoryError))
    assert raw.tell() < 1 << 20  # refused at the size line, not after reading the stream


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
@pytest.mark.parametrize("location", [b"http://[::1/", b"http://127.0.0.1:99999/", b"mailto:x", b"ftp://127.0.0.1:{port}/x",
                                      b"http:///x"])
def test_a_get_redirected_to_an_unusable_url_is_an_o2error(serve, stdlib_http, location):
    """A hostile Location escaped as a bare ValueError / requests.InvalidURL, and on the stdlib
    path an ftp:// or mailto: target was spoken to in HTTP (requests refuses the scheme)."""
    other = serve(lambda request: ok({"wrong": "server"}))
    location = location.replace(b"{port}", other.url.rsplit(":", 1)[1].encode())
    server = serve(lambda request: b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n")
    with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
        with pytest.raises(o2lite.O2Error):
            client.transport.request("GET", "/v1/x")
    assert other.requests == []


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_an_interim_answer_is_never_taken_as_the_final_one(serve, stdlib_http):
    """http.client (the requests path) skips only 100 Continue: a 102 came back as the answer,
    and a GET returned None as if it were data."""
    final = ok({"final": True})
    server = serve(lambda request: b"HTTP/1.1 102 Processing\r\n\r\n" + final)
    with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
        if stdlib_http:  # reads past interim answers to the final one
            assert client.transport.request("GET", "/v1/x") == {"final": True}
            return
        with pytest.raises(o2lite.O2Error, match="102") as caught:
            client.transport.request("GET", "/v1/x")
        assert not isinstance(caught.value, o2lite.SubmissionUnknown)
        with pytest.raises(o2lite.SubmissionUnknown) as lost:
            client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
        assert lost.value.nonce == 5


class Trickle:
    """A server that answers every request with ``start``, then one ``drip`` every 50 ms until
    the client hangs up (at most ``drips`` of them), then ``end``. ``finished`` counts the
    answers it could send to the end: a client bound by its deadline never lets it finish."""

    def __init__(self, start: bytes, drip: bytes, end: bytes, drips: int = 200) -> None:
        self.start, self.drip, self.end, self.drips = start, drip, end, drips
        self.finished = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.start)
                for _ in range(self.drips):
                    conn.sendall(self.drip)
                    time.sleep(0.05)
                conn.sendall(self.end)
                self.finished += 1
            except OSError:  # the client hung up
                pass


TRICKLES = {
    "interim answers": (b"", b"HTTP/1.1 102 Processing\r\n\r\n", ok({})),
    "a header line": (b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", b"\r\nContent-Length: 2\r\n\r\n{}"),
    "header lines": (b"HTTP/1.1 200 OK\r\n", b"X-Slow: a\r\n", b"Content-Length: 2\r\n\r\n{}"),
    "trailers": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", b"X-T: 1\r\n", b"\r\n"),
}


@pytest.mark.parametrize("kind", TRICKLES)
def test_the_read_deadline_bounds_the_whole_answer(kind):
    """Each drip arrives well within the read timeout, so only the overall deadline (twice the
    read timeout) can stop a slow-loris answer; it bounded the body only, so a head, interim
    answers or trailers trickled for as long as the server liked."""
    server = Trickle(*TRICKLES[kind], drips=50 if kind == "header lines" else 200)
    try:
        with o2lite.Client(server.url, retries=1, timeout=(0.3, 0.3)) as client:
            with pytest.raises(o2lite.O2Error, match="twice the read timeout"):
                client.transport.request("GET", "/v1/x")
            with pytest.raises(o2lite.SubmissionUnknown):
                client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
        assert server.finished == 0
    finally:
        server.sock.close()


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_cookies_come_back_when_the_base_url_carries_credentials(serve, stdlib_http):
    """requests files a cookie under the URL's host as written (credentials included), and the
    requests path looked it up without them: a sticky cookie was never sent back."""
    server = serve(lambda request: b"HTTP/1.1 200 OK\r\nSet-Cookie: sticky=1; Path=/\r\nContent-Length: 2\r\n\r\n{}")
    base = server.url.replace("http://", "http://ann:secret@")
    with o2lite.Client(base, retries=1, stdlib_http=stdlib_http) as client:
        client.transport.request("GET", "/v1/a")
        client.transport.request("POST", "/v1/b", json_body={})
        client.transport.request("GET", "/v1/c")
    assert [b"Cookie: sticky=1\r\n" in request for request in server.requests] == [False, True, True]


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_a_missing_ca_bundle_is_a_certain_refusal(serve, stdlib_http, monkeypatch, tmp_path):
    """requests checks the CA bundle path before it connects, with a bare OSError that escaped
    the transport; it is an O2ConnectionError on both paths, and certainly unsent."""
    server = serve(lambda request: ok({}))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with o2lite.Client(server.url.replace("http://", "https://"), retries=1, stdlib_http=stdlib_http) as client:
        with pytest.raises(o2lite.O2ConnectionError) as caught:
            client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
    assert not isinstance(caught.value, o2lite.SubmissionUnknown) and caught.value.may_have_landed is False
    assert server.requests == []


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_a_bare_cr_in_an_answer_header_never_reaches_the_wire(serve, stdlib_http):
    """http.client's header parser (the requests path) ends a header at a bare CR; the stdlib
    path kept it inside the cookie's value and wrote it back raw into the next request's head
    (``Cookie: a=1\\rInjected: x``): a header injected by the answer."""
    def answer(request: bytes) -> bytes:
        if b"/v1/set" in request:
            return b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\rInjected: x; Path=/\r\nContent-Length: 2\r\n\r\n{}"
        return ok({})

    server = serve(answer)
    with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
        client.transport.request("GET", "/v1/set")
        client.transport.request("POST", "/v1/x", json_body={})
    head = server.requests[1].partition(b"\r\n\r\n")[0]
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\r\nCookie: a=1\r\n" in head


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_two_different_content_lengths_are_refused(serve, stdlib_http):
    """The stdlib path took the first of two different Content-Length headers (RFC 9112 §6.3:
    unrecoverable; urllib3 refuses them) and kept the connection, whose leftover bytes could be
    read as the next request's answer."""
    server = serve(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 12\r\n\r\n{}"
                                   b'{"x":1}1234')
    with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
        with pytest.raises(o2lite.O2ConnectionError):
            client.transport.request("GET", "/v1/x")
        with pytest.raises(o2lite.SubmissionUnknown):
            client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
    assert len(server.requests) == 2


def test_the_read_deadline_starts_when_the_connection_is_made(serve, monkeypatch):
    """The stdlib path started the answer's deadline (twice the read timeout) before connecting:
    with timeout=(connect, read) and a connect slower than 2 × read, a prompt answer was
    refused as "still arriving" (the requests path starts it once the answer's head is in)."""
    server = serve(lambda request: ok({"fine": True}))
    opened = o2lite._pool.Pool._open

    def slow_open(self: Any, target: Any, connect_timeout: float) -> Any:
        time.sleep(0.3)  # a slow DNS lookup or TLS handshake, inside the connect timeout
        return opened(self, target, connect_timeout)

    monkeypatch.setattr(o2lite._pool.Pool, "_open", slow_open)
    with o2lite.Client(server.url, retries=1, timeout=(5, 0.1)) as client:
        assert client.transport.request("GET", "/v1/x") == {"fine": True}


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
@pytest.mark.parametrize("answer", [b"HTTP/1.1 304 Not Modified\r\n\r\n",
                                    b"HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\n{}",
                                    b'HTTP/1.1 300 Multiple Choices\r\nContent-Length: 8\r\n\r\n{"a": 1}'])
def test_a_redirect_not_followed_is_not_data(serve, stdlib_http, answer):
    """A GET answered 3xx that no stack followed (no Location, 300, 304) returned its body —
    None, {} — as if it were the data asked for."""
    server = serve(lambda request: answer)
    with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
        with pytest.raises(o2lite.O2Error, match="HTTP 30"):
            client.transport.request("GET", "/v1/x")


def test_a_utf8_location_is_followed_to_the_same_path_on_both_paths(serve):
    """requests reads a Location's bytes as UTF-8 (get_redirect_target); the stdlib path took
    them as latin-1 and asked for /v1/%C3%83%C2%A9 where requests asks for /v1/%C3%A9."""
    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET /v1/start"):
            return b"HTTP/1.1 302 Found\r\nLocation: /v1/\xc3\xa9\r\nContent-Length: 0\r\n\r\n"
        return ok({})

    lines = {}
    for stdlib_http in (True, False):
        server = serve(answer)
        with o2lite.Client(server.url, retries=1, stdlib_http=stdlib_http) as client:
            client.transport.request("GET", "/v1/start")
        lines[stdlib_http] = server.requests[1].split(b"\r\n")[0]
    assert lines[True] == lines[False] == b"GET /v1/%C3%A9 HTTP/1.1"

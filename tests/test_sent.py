""""Was it sent?" (o2lite/_sent.py): one test per row of the table, on both HTTP paths, with the
failures produced for real on loopback sockets (or by the socket call that fails, patched), so
the exceptions are the ones urllib3 1.26 / 2.x and http.client really raise.

A signed request that certainly never left is an ``O2ConnectionError`` with
``may_have_landed=False`` (safe to resend); one that may have left is ``SubmissionUnknown``.
"""

from __future__ import annotations

import errno
import socket
import struct
import threading
from typing import Any, Callable, List

import pytest
import requests

import o2lite
from o2lite._sent import Stage, stage_of
from o2lite.transport import Submission

SIGNED = Submission(42, "sequential", None)


@pytest.fixture(params=["stdlib", "requests"])
def path(request):
    return request.param


def post(path: str, url: str, **options: Any) -> o2lite.O2Error:
    """The error of one signed POST to ``url`` through ``path``."""
    options.setdefault("retries", 1)
    with o2lite.Client(url, stdlib_http=path == "stdlib", **options) as client:
        with pytest.raises(o2lite.O2Error) as info:
            client.transport.request("POST", "/v1/session/actions", json_body={"a": "1"}, submission=SIGNED)
    return info.value


def assert_unsent(error: o2lite.O2Error) -> None:
    assert type(error) is o2lite.O2ConnectionError and error.may_have_landed is False, repr(error)
    assert error.__cause__ is not None


def assert_unknown(error: o2lite.O2Error) -> None:
    assert isinstance(error, o2lite.SubmissionUnknown) and error.nonce == 42, repr(error)
    assert error.__cause__ is not None


class Listener:
    """A loopback TCP server: ``handle(conn)`` runs for each connection on its own thread."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: List[bytes] = []
        self.stop = threading.Event()
        self.handle = handle
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length:")), b"0"))
        while len(body) < length:
            body += conn.recv(65536)
        self.received.append(data)
        return data

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def listen():
    made: List[Listener] = []

    def start(handle: Callable[[socket.socket], None]) -> Listener:
        made.append(Listener(handle))
        return made[-1]

    yield start
    for item in made:
        item.close()


# --- rows whose answer is "no": nothing left the machine --------------------------------------

@pytest.mark.parametrize("code", [socket.EAI_NONAME, socket.EAI_AGAIN], ids=["unknown host", "temporary failure"])
def test_row_name_resolution_failed(path, monkeypatch, code):
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "o2lite-nowhere.invalid":
            raise socket.gaierror(code, "lookup failed")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    error = post(path, "http://o2lite-nowhere.invalid:8080")
    assert_unsent(error)
    assert "host unknown" in str(error)


def test_row_connection_refused(path):
    probe = socket.create_server(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d" % probe.getsockname()[1]
    probe.close()
    error = post(path, url)
    assert_unsent(error)
    assert "connection refused" in str(error)


@pytest.mark.parametrize("failure", [OSError(errno.ENETUNREACH, "unreachable"), OSError(errno.EHOSTUNREACH, "no route"),
                                     socket.timeout("timed out")], ids=["network unreachable", "no route",
                                                                         "connect timed out"])
def test_row_connect_failed(path, monkeypatch, listen, failure):
    server = listen(lambda conn: None)
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if address[1] == server.port:
            raise failure
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    error = post(path, "http://127.0.0.1:%d" % server.port)
    assert_unsent(error)
    assert server.received == []


def test_row_tls_handshake_failed(path, listen):
    def plain_http(conn: socket.socket) -> None:
        conn.recv(65536)  # the ClientHello
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    server = listen(plain_http)
    error = post(path, "https://127.0.0.1:%d" % server.port)
    assert_unsent(error)
    assert "TLS" in str(error)


def test_row_tls_handshake_timed_out(path, listen):
    server = listen(lambda conn: server.stop.wait(5))  # accepts, never answers the ClientHello
    error = post(path, "https://127.0.0.1:%d" % server.port, timeout=(0.3, 5))
    assert_unsent(error)


def test_row_proxy_not_reached(monkeypatch):
    # A proxy always goes through requests; a proxy that refuses proves the request never left.
    probe = socket.create_server(("127.0.0.1", 0))
    proxy = "http://127.0.0.1:%d" % probe.getsockname()[1]
    probe.close()
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    error = post("stdlib", "http://o2lite-behind-proxy.test:8080")
    assert_unsent(error)


# --- rows whose answer is "maybe": the request may have reached the server ---------------------

def test_row_writing_the_request_failed(path, monkeypatch, listen):
    server = listen(lambda conn: server.read_request(conn))
    real = socket.socket.sendall

    def sendall(self: socket.socket, data: Any, *args: Any) -> None:
        if bytes(data[:5]) == b"POST ":
            real(self, bytes(data[:20]))  # part of the request left, then the connection broke
            raise ConnectionResetError(errno.ECONNRESET, "reset while writing")
        real(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", sendall)
    # urllib3 swallows a reset while writing and waits for an answer: the read timeout ends it
    assert_unknown(post(path, "http://127.0.0.1:%d" % server.port, timeout=(5, 0.3)))


def test_row_reset_after_the_request_was_written(path, listen):
    def reset(conn: socket.socket) -> None:
        server.read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST

    server = listen(reset)
    assert_unknown(post(path, "http://127.0.0.1:%d" % server.port))
    assert len(server.received) == 1


def test_row_no_answer_in_time(path, listen):
    server = listen(lambda conn: (server.read_request(conn), server.stop.wait(5)))
    error = post(path, "http://127.0.0.1:%d" % server.port, timeout=(5, 0.3))
    assert_unknown(error)
    assert "read timeout" in str(error)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"tx_id\": \"0x",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{\"tx_id\": \"0x",
    b"HTTP/1.1 20",
], ids=["short content-length", "cut chunk", "cut status line"])
def test_row_answer_cut_mid_body(path, listen, answer):
    server = listen(lambda conn: (server.read_request(conn), conn.sendall(answer)))
    assert_unknown(post(path, "http://127.0.0.1:%d" % server.port))
    assert len(server.received) == 1


def test_row_anything_else_is_maybe_sent():
    assert stage_of(RuntimeError("connection refused")) is Stage.WAITING
    assert Stage.WAITING.sent and Stage.SENDING.sent and Stage.READING.sent and not Stage.CONNECTING.sent


def test_words_in_a_message_prove_nothing():
    # Issue 20: a delivered request came back "refused" because the broken answer said so.
    for text in ("Connection refused", "Name or service not known", "Failed to resolve"):
        assert stage_of(requests.ConnectionError(text)).sent
    assert not stage_of(requests.ConnectTimeout("any words at all")).sent


def test_an_unsent_get_is_retried_and_then_reported_unsent(path):
    probe = socket.create_server(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d" % probe.getsockname()[1]
    probe.close()
    sleeps: List[float] = []
    with o2lite.Client(url, stdlib_http=path == "stdlib", retries=3, sleep=sleeps.append) as client:
        with pytest.raises(o2lite.O2ConnectionError) as info:
            client.transport.request("GET", "/v1/x")
    assert len(sleeps) == 2 and info.value.may_have_landed is False



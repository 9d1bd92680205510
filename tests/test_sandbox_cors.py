"""The sandbox server lets a browser page call it (issue 23): CORS preflights and headers.

Raw sockets against a real loopback server, as a browser would speak: an ``OPTIONS`` preflight
before a JSON POST carrying ``O2-Owner-Id``, then the real request on the same connection.
"""

from __future__ import annotations

import json
import socket

import pytest

from o2lite.sandbox import Sandbox

PAGE = "http://127.0.0.1:8000"  # a notebook page on another port: another origin


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(read_timeout=2.0, rate_limits=True) as sx:
        yield sx


def exchange(sx: Sandbox, *requests_bytes: bytes):
    """Send each request on one connection; return each answer as (status, headers, body)."""
    host, port = sx._httpd.server_address[:2]
    answers = []
    with socket.create_connection((host, port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for data in requests_bytes:
            sock.sendall(data)
            status = int(reader.readline().split(b" ")[1])
            headers = {}
            while True:
                line = reader.readline().decode().rstrip("\r\n")
                if not line:
                    break
                name, value = line.split(": ", 1)
                headers[name.lower()] = value
            length = int(headers.get("content-length", "0"))
            answers.append((status, headers, reader.read(length)))
    return answers


def preflight(extra: str = "", method: str = "POST", asked: str = "content-type,o2-owner-id") -> bytes:
    return (f"OPTIONS /v1/session/actions HTTP/1.1\r\nHost: x\r\nOrigin: {PAGE}\r\n"
            f"Access-Control-Request-Method: {method}\r\nAccess-Control-Request-Headers: {asked}\r\n{extra}\r\n").encode()


def test_a_preflight_then_the_request_on_the_same_connection(sandbox):
    body = b'{"actions": []}'
    post = (f"POST /v1/session/actions HTTP/1.1\r\nHost: x\r\nOrigin: {PAGE}\r\nContent-Type: application/json\r\n"
            f"O2-Owner-Id: 0x{'11' * 32}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    (status, headers, payload), (real_status, real_headers, real_body) = exchange(sandbox, preflight(), post)
    assert status == 204 and payload == b"" and "content-length" not in headers
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "GET, POST, PUT"
    assert headers["access-control-allow-headers"] == "content-type,o2-owner-id"
    assert headers["access-control-max-age"] == "600" and "connection" not in headers  # kept alive
    assert real_status == 400 and real_headers["access-control-allow-origin"] == "*"
    assert json.loads(real_body)["code"] == 1002  # the sandbox's own verdict, readable by the page


def test_a_malformed_header_list_gets_the_default(sandbox):
    (status, headers, _), = exchange(sandbox, preflight(asked="content-type, (o2-owner-id)"))
    assert status == 204 and headers["access-control-allow-headers"] == "Content-Type, O2-Owner-Id"


def test_private_network_access_is_granted_when_asked(sandbox):
    (_, asked, _), (_, plain, _) = exchange(sandbox, preflight("Access-Control-Request-Private-Network: true\r\n"),
                                            preflight())
    assert asked["access-control-allow-private-network"] == "true"
    assert "access-control-allow-private-network" not in plain


@pytest.mark.parametrize("request_line,status", [("GET /v1/markets", 200), ("GET /v1/nowhere", 404),
                                                 ("PUT /v1/markets", 405), ("DELETE /v1/markets", 405)])
def test_every_answer_carries_the_origin_header(sandbox, request_line, status):
    (got, headers, _), = exchange(sandbox, f"{request_line} HTTP/1.1\r\nHost: x\r\nOrigin: {PAGE}\r\n"
                                           "Content-Length: 0\r\n\r\n".encode())
    assert got == status and headers["access-control-allow-origin"] == "*"
    if request_line.startswith("DELETE"):  # a method no route has (a route's own 405 lists its methods)
        assert headers["allow"] == "GET, POST, PUT, OPTIONS"


def test_a_rate_limited_answer_exposes_retry_after(sandbox):
    body = b'{"identity": {"Address": "0x' + b"22" * 32 + b'"}}'
    post = (f"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nOrigin: {PAGE}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    answers = exchange(sandbox, post, post, post)  # one account creation a second
    limited = [headers for status, headers, _ in answers if status == 429]
    assert limited and "retry-after" in limited[0]
    assert limited[0]["access-control-expose-headers"] == "Retry-After"


@pytest.mark.parametrize("asked", [b"content-type,\r\n o2-owner-id", b"content-type,\x0bo2-owner-id",
                                   b"content-type,\xa0o2-owner-id", b"content-type\n"])
def test_a_folded_or_odd_whitespace_header_list_is_never_echoed(sandbox, asked):
    # a folded request header (obs-fold) must not come back as CR LF inside an answer's header
    host, port = sandbox._httpd.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"OPTIONS /v1/session/actions HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Method: POST\r\n"
                     b"Access-Control-Request-Headers: " + asked + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while not data.endswith(b"\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    lines = data.split(b"\r\n")
    allowed = [line for line in lines if line.lower().startswith(b"access-control-allow-headers:")]
    assert allowed in ([b"Access-Control-Allow-Headers: Content-Type, O2-Owner-Id"],
                       [b"Access-Control-Allow-Headers: content-type"])
    assert not [line for line in lines if line[:1] in (b" ", b"\t")] and b"\x0b" not in data and b"\xa0" not in data


@pytest.mark.parametrize("framing", [b"Transfer-Encoding: chunked\r\n", b"Content-Length: 2000000\r\n"])
def test_a_preflight_body_that_cannot_be_skipped_is_never_read_as_a_request(sandbox, framing):
    # the body of a preflight the server does not read must not be taken for the next request
    host, port = sandbox._httpd.server_address[:2]
    inner = b"GET /v1/markets HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"OPTIONS /v1/markets HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n" + inner)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert [line for line in data.split(b"\r\n") if line.startswith(b"HTTP/")] == [b"HTTP/1.1 204 No Content"]

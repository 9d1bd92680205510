"""o2lite's own ``http.client`` path (o2lite/_pool.py, o2lite/_response.py) on real loopback sockets:
hostile answers of every framing, the fuzz of test_hostile_server over a socket, a bounded
thread-safe pool, GET redirects, TLS on the CA bundle ``requests`` uses, and the routing rule
(``responses`` still sees every request)."""

from __future__ import annotations

import json
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
from typing import Any, List

import pytest
import responses

import o2lite
from o2lite.transport import Submission

from . import test_hostile_server as hostile
from .test_wire import RawServer, ok

SIGNED = Submission(5, "sequential", None)


@pytest.fixture(autouse=True)
def stdlib_path(monkeypatch):
    """These tests are about the http.client path: the default, whatever the environment says."""
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


BROKEN = [
    b"garbage\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n{}",
    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n{}",
    b"HTTP/1.1 200 OK\r\n\r\n" + b"[" * 100_000,
    b"HTTP/1.1 100 Continue\r\n\r\n",
]


@pytest.mark.parametrize("answer", BROKEN, ids=range(len(BROKEN)))
def test_broken_framing_is_an_o2error_for_a_read_and_unknown_for_a_signed_call(serve, answer):
    server = serve(lambda request: answer, close_after_answer=True)
    with o2lite.Client(server.url, retries=2, sleep=lambda s: None, timeout=(5, 2)) as client:
        started = time.monotonic()
        with pytest.raises(o2lite.O2Error) as read:
            client.transport.request("GET", "/v1/x")
        with pytest.raises(o2lite.SubmissionUnknown) as signed:
            client.transport.request("POST", "/v1/y", json_body={"a": "1"}, submission=SIGNED)
        assert time.monotonic() - started < 5
    assert signed.value.nonce == 5 and read.value.__cause__ is not None
    assert [r.split(b" ")[0] for r in server.requests].count(b"POST") == 1


def test_a_valid_chunked_answer_with_trailers_and_interim_answers(serve):
    answer = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Seen: yes\r\n\r\n"
              b"5;ext=1\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\nTrailer: x\r\n\r\n")
    server = serve(lambda request: answer)
    with o2lite.Client(server.url) as client:
        for _ in range(3):
            assert client.transport.request("GET", "/v1/x") == {"a": 1}
    assert server.connections == 1  # the chunked answer ended where it said: the connection was reused


def test_http_1_0_and_connection_close_are_not_reused(serve):
    answers = [b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
               b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
               b"HTTP/1.1 200 OK\r\n\r\n{}"]  # no length: the body ends with the connection
    server = serve(lambda request: answers[len(server.requests) - 1], close_after_answer=True)
    with o2lite.Client(server.url) as client:
        for _ in answers:
            assert client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED) == {}
    assert server.connections == 3


def test_the_hostile_fuzz_over_a_real_socket(serve):
    """The fuzz of test_hostile_server (600 answers) served over loopback to the http.client path."""
    rng = random.Random(26)
    state = {"target": "", "answer": (200, {}, "")}

    def answer(request: bytes) -> bytes:
        line = request.split(b"\r\n", 1)[0].decode()
        method, target = line.split(" ")[:2]
        path = target.split("?")[0]
        if method == "POST" and path == "/v1/accounts":
            path = "/v1/accounts/create"
        status, headers, text = state["answer"] if path == state["target"] else (200, {}, json.dumps(
            hostile.VALID.get(path, {"code": 1001, "message": "no route"})))
        data = text.encode("utf-8", "surrogatepass")
        lines = "".join(f"{k}: {v.replace(hostile.URL, '')}\r\n" for k, v in headers.items())  # stay local
        return b"HTTP/1.1 %d X\r\n%sContent-Length: %d\r\n\r\n%s" % (status, lines.encode(), len(data), data)

    server = serve(answer)
    targets = hostile.READS + hostile.SIGNED
    outcomes = {"ok": 0, "error": 0, "unknown": 0}
    with o2lite.Client(server.url, sleep=lambda s: None, retries=2) as client:
        client.markets.info()
        for i in range(600):
            path, call = targets[i % len(targets)]
            state["target"], state["answer"] = path, hostile.hostile_answer(hostile.VALID[path], rng)
            started = time.monotonic()
            try:
                call(client)
                outcomes["ok"] += 1
            except o2lite.SubmissionUnknown as exc:
                assert exc.nonce in hostile.NONCES
                outcomes["unknown"] += 1
            except o2lite.O2Error as exc:
                assert len(str(exc)) < 2000
                outcomes["error"] += 1
            assert time.monotonic() - started < 2.0
    assert min(outcomes.values()) > 10, outcomes
    assert server.connections < 60  # kept alive across answers of every shape


def test_many_threads_share_a_bounded_pool_and_get_their_own_answers(serve):
    def echo(request: bytes) -> bytes:
        time.sleep(0.002)
        return ok({"echo": json.loads(request.split(b"\r\n\r\n", 1)[1])["n"]})

    server = serve(echo)
    mismatches: List[Any] = []
    with o2lite.Client(server.url, pool_size=3) as client:
        def work(i: int) -> None:
            for j in range(15):
                n = f"{i}-{j}"
                got = client.transport.request("POST", "/v1/x", json_body={"n": n}, submission=SIGNED)
                if got != {"echo": n}:
                    mismatches.append((n, got))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pool = client.transport._pool
        assert pool is not None and all(len(idle) <= 3 for idle in pool._idle.values())
    assert mismatches == [] and len(server.requests) == 180


def test_a_get_follows_redirects_and_a_write_does_not(serve):
    def answer(request: bytes) -> bytes:
        target = request.split(b" ")[1]
        if target.startswith(b"/v1/old"):
            return b"HTTP/1.1 301 Moved\r\nLocation: /v1/new?via=old\r\nContent-Length: 0\r\n\r\n"
        if target.startswith(b"/v1/loop"):
            return b"HTTP/1.1 302 Found\r\nLocation: /v1/loop\r\nContent-Length: 0\r\n\r\n"
        return ok({"at": target.decode()})

    server = serve(answer)
    with o2lite.Client(server.url, retries=1) as client:
        assert client.transport.request("GET", "/v1/old", params={"a": "1"}) == {"at": "/v1/new?via=old"}
        with pytest.raises(o2lite.O2Error, match="redirected to /v1/new"):
            client.transport.request("POST", "/v1/old", json_body={}, submission=SIGNED)
        with pytest.raises(o2lite.O2ConnectionError, match="redirects"):
            client.transport.request("GET", "/v1/loop")
    assert [r.split(b" ")[1] for r in server.requests[:3]] == [b"/v1/old?a=1", b"/v1/new?via=old", b"/v1/old"]


def test_responses_sees_every_request_of_o2litess_own_session():
    with o2lite.Client("http://127.0.0.1:9") as client:  # nothing listens on the discard port
        with responses.RequestsMock() as mocked:
            mocked.post("http://127.0.0.1:9/v1/x", json={"ok": 1})
            assert client.transport.request("POST", "/v1/x", json_body={}) == {"ok": 1}
            assert len(mocked.calls) == 1
        with pytest.raises(o2lite.O2ConnectionError, match="refused"):  # unpatched again: the socket path
            client.transport.request("POST", "/v1/x", json_body={})


def make_certificate(folder: Any, names: str) -> Any:
    """A self-signed certificate for ``names`` (a subjectAltName list), made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=o2lite test",
                    "-addext", f"subjectAltName={names}"], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1."""
    return make_certificate(tmp_path_factory.mktemp("tls"), "DNS:localhost,IP:127.0.0.1")


def tls_server(cert: str, key: str) -> Any:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    seen: List[bytes] = []

    def run() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        seen.append(data)
                        conn.sendall(ok({"tls": True}))
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=run, daemon=True).start()
    return listener, seen


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_tls_verifies_against_the_bundle_requests_would_use(certificate, monkeypatch, host, stdlib_http):
    cert, key = certificate
    listener, seen = tls_server(cert, key)
    url = f"https://{host}:{listener.getsockname()[1]}"
    try:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        with o2lite.Client(url, retries=1, stdlib_http=stdlib_http) as client:  # certifi's bundle does not trust it
            with pytest.raises(o2lite.O2ConnectionError, match="TLS handshake") as info:
                client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
            assert info.value.may_have_landed is False and seen == []
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
        with o2lite.Client(url, stdlib_http=stdlib_http) as client:
            for _ in range(2):
                assert client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED) == {"tls": True}
            assert (client.transport._pool is not None) is stdlib_http
        assert len(seen) == 2 and seen[0].startswith(b"POST /v1/x HTTP/1.1\r\nHost: " + host.encode() + b":")
    finally:
        listener.close()


@pytest.mark.parametrize("stdlib_http", [True, False], ids=["stdlib", "requests"])
def test_tls_checks_the_host_name(tmp_path, monkeypatch, stdlib_http):
    cert, key = make_certificate(tmp_path, "DNS:o2.example,IP:127.0.0.2")  # trusted, but for other names
    listener, seen = tls_server(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    try:
        with o2lite.Client(f"https://127.0.0.1:{listener.getsockname()[1]}", retries=1,
                           stdlib_http=stdlib_http) as client:
            with pytest.raises(o2lite.O2ConnectionError, match="TLS handshake") as info:
                client.transport.request("POST", "/v1/x", json_body={}, submission=SIGNED)
        assert info.value.may_have_landed is False and seen == []
    finally:
        listener.close()


def test_pyodide_a_callers_session_and_the_switch_go_through_requests(monkeypatch):
    import requests

    monkeypatch.setattr(o2lite.transport, "EMSCRIPTEN", True)  # Pyodide: no sockets; urllib3's browser path
    with o2lite.Client("http://127.0.0.1:9") as client:
        assert client.transport._pool is None
        with responses.RequestsMock() as mocked:
            mocked.get("http://127.0.0.1:9/v1/x", json={"ok": 1})
            assert client.transport.request("GET", "/v1/x") == {"ok": 1}
    monkeypatch.setattr(o2lite.transport, "EMSCRIPTEN", False)
    with o2lite.Client("http://127.0.0.1:9", session=requests.Session()) as client:
        assert client.transport._pool is None
    with o2lite.Client("http://127.0.0.1:9", stdlib_http=False) as client:
        assert client.transport._pool is None
    with o2lite.Client("http://127.0.0.1:9") as client:
        assert client.transport._pool is not None


def test_a_proxy_from_the_environment_carries_the_request(serve, monkeypatch):
    proxy = serve(lambda request: ok({"via": "proxy"}))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    with o2lite.Client("http://o2.example:8080") as client:
        assert client.transport.request("POST", "/v1/x", json_body={"a": "1"}, submission=SIGNED) == {"via": "proxy"}
        assert client.transport.request("GET", "/v1/y") == {"via": "proxy"}
    assert [r.split(b"\r\n")[0] for r in proxy.requests] == [b"POST http://o2.example:8080/v1/x HTTP/1.1",
                                                             b"GET http://o2.example:8080/v1/y HTTP/1.1"]

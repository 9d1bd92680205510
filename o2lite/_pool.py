"""o2lite's own HTTP path: kept-alive ``http.client`` connections, one pool per host.

For a session o2lite creates (never one the caller passed in) and no proxy, every request goes
through here instead of ``requests``: the standard library's socket, ``ssl`` and response
parser, with none of the per-request work of ``requests``/urllib3 (no dropped-connection poll
on a fresh connection, no timeout juggling, no pool bookkeeping beyond a list). The bytes on
the wire are the ones ``requests`` would send: the request line, ``Host`` and
``Accept-Encoding: identity`` as ``http.client`` writes them, then the headers of a
``requests.PreparedRequest`` (so the URL, header checks and URL credentials are ``requests``'
own), written with the body in one ``sendall``.

- **Pool**: at most ``size`` idle connections per (scheme, host, port); a thread takes one (the
  most recently used) or opens a new one, and gives it back after reading the whole answer
  (more than ``size`` threads at once open extra connections, closed on return).
- **Stale connections**: an idle connection the server has closed (its FIN arrived, so the
  socket reads as ready) is dropped before reuse with one zero-timeout ``poll``, so a server's
  keep-alive timer is never mistaken for a lost answer.
- **TLS**: ``ssl`` with hostname checks on the CA bundle ``requests`` uses
  (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else certifi's); TLS 1.2 or newer, ALPN
  ``http/1.1``, as urllib3 2.x configures it.
- **Timeouts**: the connect timeout covers DNS, TCP connect and the TLS handshake; the read
  timeout every later socket operation, and the whole answer (status line, headers, interim
  answers, body, trailers) must arrive within twice the read timeout of the connection being ready,
  however slowly its bytes drip. The answer's size limit is the transport's.
- **Stages**: every failure is an :class:`~o2lite._sent.ExchangeFailed` naming how far the
  exchange got; :mod:`o2lite._sent` says what that means for "was it sent?".
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Deque, Dict, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from ._response import DeadlineReader, read_body, read_head
from ._sent import ExchangeFailed, Stage

if TYPE_CHECKING:  # ssl and select load with the first connection: Pyodide has no ssl by default
    import ssl

__all__ = ["Target", "RequestHead", "Answer", "Pool", "request_head", "tls_context", "ca_bundle"]


class Target(NamedTuple):
    """Where a connection goes."""

    scheme: str
    host: str
    port: int


class RequestHead(NamedTuple):
    """A request's bytes before its body, in the order ``requests`` + ``http.client`` write them.

    ``before`` is the request line, ``Host``, ``Accept-Encoding: identity`` and the caller's
    headers; then a ``Cookie`` line (per call), a ``Content-Length`` line when ``length``
    (every method but GET/HEAD, as ``requests`` sets it), and ``after`` (an ``Authorization``
    built from credentials in the URL), then the blank line.
    """

    target: Target
    before: bytes
    length: bool
    after: bytes
    url: str  # without credentials: for cookies, redirects and messages


class Answer(NamedTuple):
    """A whole HTTP answer: status, headers (case-insensitive ``get``), body bytes, and the
    (status, ``Location``) of a redirect the HTTP stack followed by itself on a write, if it did
    (only ``requests`` with someone else's session or a browser's ``fetch`` can)."""

    status: int
    headers: Any
    raw: bytes
    followed: Optional[Tuple[int, str]] = None


def _line(name: str, value: Any) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode("latin-1")
    return name.encode("ascii") + b": " + data + b"\r\n"


def request_head(prepared: Any) -> RequestHead:
    """The :class:`RequestHead` of a ``requests.PreparedRequest`` (prepared without a body)."""
    parts = urlsplit(prepared.url)
    scheme = parts.scheme.lower()
    default = 443 if scheme == "https" else 80
    host = parts.hostname or ""
    port = parts.port or default
    shown = f"[{host}]" if ":" in host else host
    host_value = shown if port == default else f"{shown}:{port}"
    head = [f"{prepared.method} {prepared.path_url} HTTP/1.1\r\n".encode("ascii"), _line("Host", host_value.encode("idna")
                                                                                            if not host_value.isascii()
                                                                                            else host_value)]
    head.append(b"Accept-Encoding: identity\r\n")
    after = b""
    length = False
    for name, value in prepared.headers.items():
        lowered = name.lower()
        if lowered == "content-length":
            length = True
        elif lowered == "authorization":
            after = _line(name, value)
        else:
            head.append(_line(name, value))
    url = f"{scheme}://{shown}" + ("" if port == default else f":{port}") + prepared.path_url
    return RequestHead(Target(scheme, host, port), b"".join(head), length, after, url)


def ca_bundle() -> str:
    """The CA bundle ``requests`` verifies with: ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``
    when set, else certifi's."""
    chosen = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if chosen:
        return chosen
    import certifi  # what requests itself uses; a dependency of requests

    return str(certifi.where())


def tls_context(bundle: str) -> ssl.SSLContext:
    """A verifying client context on ``bundle`` (a file, or a directory as ``requests`` allows)."""
    import ssl

    if os.path.isdir(bundle):
        context = ssl.create_default_context(capath=bundle)
    else:
        context = ssl.create_default_context(cafile=bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Connection:
    """One socket and the read timeout currently set on it (so it is set only when it changes)."""

    __slots__ = ("sock", "timeout")

    def __init__(self, sock: socket.socket, timeout: Optional[float]) -> None:
        self.sock, self.timeout = sock, timeout

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:  # pragma: no cover - closing a broken socket
            pass


def _dropped(sock: socket.socket) -> bool:
    """An idle connection reads as ready only if the server closed it or sent something
    unasked: either way it must not carry the next request."""
    import select

    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Pool:
    """Kept-alive connections per :class:`Target`, at most ``size`` idle ones each.

    ``context`` returns the TLS context for an ``https`` target (built once by the caller).
    """

    def __init__(self, size: int, context: Any) -> None:
        self.size = size
        self._context = context
        self._idle: Dict[Target, Deque[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close every idle connection; connections in use close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(self, target: Target) -> Optional[_Connection]:
        with self._lock:
            idle = self._idle.get(target)
            connection = idle.pop() if idle else None
        while connection is not None and _dropped(connection.sock):
            connection.close()
            with self._lock:
                idle = self._idle.get(target)
                connection = idle.pop() if idle else None
        return connection

    def _give_back(self, target: Target, connection: _Connection) -> None:
        with self._lock:
            if not self._closed:
                idle = self._idle.setdefault(target, deque())
                if len(idle) < self.size:
                    idle.append(connection)
                    return
        connection.close()

    def _open(self, target: Target, connect_timeout: float) -> _Connection:
        sock = socket.create_connection((target.host, target.port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as urllib3 does
            if target.scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=target.host)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, connect_timeout)

    def exchange(self, head: RequestHead, cookie: Optional[str], body: Optional[bytes],
                 timeout: Tuple[float, float], limit: int, method: str) -> Answer:
        """Send one request and read its whole answer (at most ``limit`` bytes, within twice the
        read timeout of the connection being ready, as the ``requests`` path counts it from the
        answer's head: a slow connect does not eat the answer's time), or raise
        :class:`ExchangeFailed` naming the stage reached.

        An answer over ``limit`` or past the deadline raises ``ExchangeFailed`` at stage
        ``READING`` whose cause is a :class:`~o2lite._http.TooLarge` with the status; the
        answer is read by :mod:`o2lite._response`.
        """
        parts = [head.before]
        if cookie:
            parts.append(_line("Cookie", cookie))
        if head.length:
            parts.append(b"Content-Length: %d\r\n" % (len(body) if body is not None else 0))
        parts.append(head.after)
        parts.append(b"\r\n")
        if body is not None:
            parts.append(body)
        data = b"".join(parts)
        target = head.target
        connect, read = timeout
        stage = Stage.CONNECTING
        connection = None
        status: Optional[int] = None
        try:
            connection = self._take(target) or self._open(target, connect)
            stage = Stage.SENDING
            deadline = time.monotonic() + 2 * read
            if connection.timeout != read:
                connection.sock.settimeout(read)
                connection.timeout = read
            connection.sock.sendall(data)
            stage = Stage.WAITING
            fp = io.BufferedReader(DeadlineReader(connection, deadline))
            try:
                status, http11, headers = read_head(fp)
                stage = Stage.READING
                body_bytes, keep = read_body(fp, method, status, http11, headers, limit, deadline)
            finally:
                fp.close()
        except BaseException as exc:
            if connection is not None:
                connection.close()
            if isinstance(exc, Exception):
                raise ExchangeFailed(stage, exc, status=status) from exc
            raise
        if keep:
            self._give_back(target, connection)
        else:
            connection.close()
        return Answer(status or 0, headers, body_bytes)


class _Reply:
    """What ``CookieJar.extract_cookies`` reads from a response: ``info()``."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def info(self) -> Any:
        return self._headers


def cookie_header(jar: Any, url: str) -> Optional[str]:
    """The ``Cookie`` header ``jar`` holds for ``url``, if any (``requests.Session``'s rule).

    ``url`` must be the one the cookies were stored under: ``requests`` files them under the
    host as written, credentials included, and the ``http.client`` path under
    :attr:`RequestHead.url`, without them."""
    if not len(jar):
        return None
    import urllib.request

    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    value = request.get_header("Cookie")
    return None if value is None else str(value)


def keep_cookies(jar: Any, url: str, headers: Mapping[str, Any]) -> None:
    """Store the cookies an answer from ``url`` set (``headers`` is an ``http.client`` message)."""
    if headers.get("Set-Cookie") is None and headers.get("Set-Cookie2") is None:
        return
    import urllib.request

    jar.extract_cookies(_Reply(headers), urllib.request.Request(url))

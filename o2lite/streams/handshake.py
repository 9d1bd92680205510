"""Opening a client WebSocket: TCP (and TLS for ``wss://``), then the RFC 6455 §4.1 opening
handshake. Framing is :mod:`o2lite.streams.frames`; the connection's life is
:mod:`o2lite.streams.connection`.

Handshake request (§4.1)::

    GET <path> HTTP/1.1 / Host / Upgrade: websocket / Connection: Upgrade /
    Sec-WebSocket-Key: base64(16 random bytes) / Sec-WebSocket-Version: 13

The answer must be ``101`` with ``Upgrade: websocket`` and ``Sec-WebSocket-Accept`` =
base64(sha1(key ‖ GUID)); its headers are read up to 16 KiB, and within ``timeout`` seconds of
the connect as a whole: a server trickling its answer a byte at a time does not hold an attempt
open for longer (a per-read timeout alone would, for hours).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Callable, Optional, Tuple
from urllib.parse import SplitResult, urlsplit

from .. import _pool
from .._version import __version__
from . import frames
from ..errors import StreamError

__all__ = ["ws_url", "tls_context", "open_websocket"]

_HANDSHAKE_LIMIT = 16 << 10  # bytes of handshake headers accepted


def ws_url(base_url: str) -> str:
    """The stream URL of a REST base URL: ``https://h/p`` → ``wss://h/p/v1/ws`` (``http`` → ``ws``)."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/v1/ws"


def tls_context() -> ssl.SSLContext:
    """A verifying context on the CA bundle ``requests`` uses, built as o2lite's HTTP pool builds
    its own (:func:`o2lite._pool.ca_bundle`: ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when
    set — a file or a directory — else certifi's; TLS 1.2 or newer, ALPN ``http/1.1``, which is
    what the upgrade request speaks)."""
    return _pool.tls_context(_pool.ca_bundle())


def open_websocket(parts: SplitResult, timeout: float, context: Optional[ssl.SSLContext] = None,
                   on_socket: Optional[Callable[[socket.socket], None]] = None) -> Tuple[socket.socket, bytes]:
    """Connect to a ``ws://``/``wss://`` URL and complete the handshake → the socket and any
    bytes that arrived after the handshake answer (the first frames). Raises
    :class:`~o2lite.errors.StreamError` on a refused, malformed or too slow handshake, ``OSError``
    on a network failure; the socket is closed on any failure. ``on_socket`` is told each socket
    as soon as it exists (the TCP one, then the TLS one), so a caller can cut a handshake short."""
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((parts.hostname, port), timeout=timeout)
    try:
        if on_socket is not None:
            on_socket(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if secure:
            sock.settimeout(_remaining(deadline, timeout))
            sock = (context or tls_context()).wrap_socket(sock, server_hostname=parts.hostname)
            if on_socket is not None:
                on_socket(sock)
        key = frames.new_key()
        host = parts.netloc.rsplit("@", 1)[-1]
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"User-Agent: o2lite/{__version__}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            sock.settimeout(_remaining(deadline, timeout))
            chunk = sock.recv(4096)
            if not chunk:
                raise StreamError("the server closed the connection during the WebSocket handshake")
            data += chunk
            if len(data) > _HANDSHAKE_LIMIT:
                raise StreamError("WebSocket handshake answer too large")
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ")
        if len(status) < 2 or status[1] != "101":
            raise StreamError(f"WebSocket handshake refused: {lines[0][:100]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if headers.get("upgrade", "").lower() != "websocket" or \
                headers.get("sec-websocket-accept") != frames.accept_key(key):
            raise StreamError("WebSocket handshake answer has a wrong Upgrade or Sec-WebSocket-Accept")
        sock.settimeout(timeout)  # not what was left of the handshake's: the first sends come next
        return sock, rest
    except BaseException:
        sock.close()
        raise


def _remaining(deadline: float, timeout: float) -> float:
    """Seconds left of the handshake's ``timeout``; a :class:`StreamError` once none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise StreamError(f"WebSocket handshake not completed within {timeout:g} s")
    return left

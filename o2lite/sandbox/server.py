"""``Sandbox``: the sandbox exchange over real HTTP on loopback (standard library only).

>>> from o2lite.sandbox.server import Sandbox
>>> import o2lite
>>> with Sandbox() as sx, o2lite.Client(sx.url) as client:
...     [m.pair for m in client.markets.list()]
['FUEL/USDC', 'ETH/USDC']
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qsl, urlsplit

from .exchange import Exchange
from .state import load_file, save_file

__all__ = ["Sandbox"]

_MAX_BODY = 1 << 20  # requests larger than 1 MiB are refused


class _Handler(BaseHTTPRequestHandler):
    server_version = "o2lite-sandbox"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without NODELAY, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._reply(413, {"code": 1001, "message": "request too large"}, {})
            return
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(400, {"code": 1002, "message": "Parse error: body is not JSON"}, {})
            return
        status, payload, headers = sandbox.exchange.handle(self.command, url.path, dict(parse_qsl(url.query)),
                                                           dict(self.headers.items()), body)
        if self.command != "GET":
            sandbox.persist()
        self._reply(status, payload, headers)

    def _reply(self, status: int, payload: Any, headers: dict) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class Sandbox:
    """Serve an :class:`Exchange` on ``host:port`` (port 0 picks a free one).

    Args:
        state: a JSON file; loaded on start if present and rewritten atomically after every
            write request, so a restarted sandbox loses nothing.
        exchange: an existing engine; otherwise one is made from ``exchange_options``
            (``rate_limits``, ``faucet_cooldown``, ``seed_book``, …).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, state: Optional[str] = None,
                 exchange: Optional[Exchange] = None, verbose: bool = False, **exchange_options: Any) -> None:
        self.exchange = exchange or Exchange(**exchange_options)
        self.state = state
        if state:
            load_file(self.exchange, state)
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.sandbox = self  # type: ignore[attr-defined]
        self._httpd.verbose = verbose  # type: ignore[attr-defined]
        self._thread: Optional[threading.Thread] = None
        self._persist_lock = threading.Lock()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def persist(self) -> None:
        """Write the state file now (no-op without one)."""
        if self.state:
            with self._persist_lock, self.exchange.lock:
                save_file(self.exchange, self.state)

    def start(self) -> "Sandbox":
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="o2lite-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

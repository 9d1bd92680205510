"""``Sandbox``: the sandbox exchange over real HTTP on loopback (standard library only).

``GET /v1/ws`` upgrades to the WebSocket streams of :mod:`o2lite.sandbox.ws` on the same port.

The server is meant to be left running by users, so every bad request gets a JSON answer and the
server keeps serving: a read timeout per connection (a silent client cannot hold a thread), a
strict ``Content-Length`` and a body cap (413), a JSON nesting limit, 405 with ``Allow`` for
any other method, 414/431 for oversized request lines and headers, 400 for garbage (a TLS hello
on the plain port included) — all as JSON, none with a traceback on stderr — and a listen
backlog sized for bursts of new connections.

>>> from o2lite.sandbox.server import Sandbox
>>> import o2lite
>>> with Sandbox() as sx, o2lite.Client(sx.url) as client:
...     [m.pair for m in client.markets.list()]
['FUEL/USDC', 'ETH/USDC']
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple, Union
from urllib.parse import urlsplit

from ..streams import frames
from .._in_process import EMSCRIPTEN, IN_PROCESS_DOMAIN, register, unregister
from .._parse import digits
from ..errors import O2Error
from .dispatch import (MAX_BODY, Answer, answer, cors_headers, error_answer, internal_error, not_allowed,
                       preflight_headers)
from .exchange import Exchange
from .in_process import InProcessAdapter
from .state import StateVersionError, load_file, save_file
from .ws import IDLE_TIMEOUT, serve_websocket
from ..error_codes import ErrorCode

__all__ = ["Sandbox", "MAX_BODY", "READ_TIMEOUT"]

log = logging.getLogger("o2lite.sandbox")

READ_TIMEOUT = 10.0  # seconds a connection may stay silent mid-request (or idle between requests)
_IN_PROCESS_IDS = itertools.count(1)  # each in-process sandbox gets a host name of its own
_POLL = 0.05  # seconds between shutdown checks: stop() returns this fast
_STATUS_TEXT = {400: "bad request", 404: "not found", 405: "method not allowed", 408: "request timeout",
                411: "length required", 413: "request body too large", 414: "request line too long",
                431: "request headers too large", 500: "internal error", 501: "not implemented",
                505: "HTTP version not supported"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of new connections (SYN backlog)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that breaks (reset, timeout) is logged at debug level, not printed."""
        log.debug("sandbox connection from %s failed", client_address, exc_info=True)


def _load_state(exchange: Exchange, path: str) -> None:
    """Load a state file, or say which file is wrong and why (ValueError)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"state file {path}: its folder {folder} does not exist (create it, or choose another)")
    if os.path.isdir(path):
        raise ValueError(f"state file {path} is a folder: give a file name, e.g. {os.path.join(path, 'sandbox.json')}")
    try:
        load_file(exchange, path)
    except OSError as exc:
        raise ValueError(f"state file {path}: cannot read it ({exc.strerror or exc})") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"state file {path} is not a sandbox state (JSON written by `o2lite sandbox --state`): "
                         f"{_state_problem(exc)}") from exc


def _state_problem(exc: Exception) -> str:
    """Why a state file could not be loaded, in words (no Python exception names)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"it is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg.lower()})"
    if isinstance(exc, StateVersionError):
        return str(exc)
    return "its content has another shape (move it aside, or choose another file, to start afresh)"


def _garbled(start: bytes) -> bool:
    """True when the first line seen so far cannot begin an HTTP request line: it starts with
    something other than a method's letters, or holds a byte that is not printable ASCII. (Read
    at once from what has arrived, so binary garbage is answered without waiting for a newline.)"""
    line = start.split(b"\n", 1)[0].rstrip(b"\r")
    if not line:
        return False
    return not line[:1].isalpha() or any(b < 0x20 or b > 0x7E for b in line)


class _Handler(BaseHTTPRequestHandler):
    server_version = "o2lite-sandbox"
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT  # socket timeout for every read: a silent client cannot hold a thread

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without NODELAY, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """Answer a TLS handshake on the plain-HTTP port with a JSON hint, not a silent hang."""
        try:
            first = self.rfile.peek(1)[:1]  # type: ignore[attr-defined]
        except (OSError, ValueError):
            self.close_connection = True
            return
        if first == b"\x16":  # a TLS ClientHello: the client speaks https to an http server
            self.request_version, self.command, self.requestline = "HTTP/1.1", "", ""
            self.send_error(400, "this sandbox speaks plain HTTP: use an http:// URL")
            return
        if _garbled(self.rfile.peek(512)[:512]):  # type: ignore[attr-defined]
            self.request_version, self.command, self.requestline = "HTTP/1.1", "", ""
            self.send_error(400, "the request line is not HTTP (a method, a path, a version, in plain text)")
            return
        super().handle_one_request()

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """The standard library's own errors (bad request line, 414, 431, 501, …) as JSON."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.0"  # else the status line is left out (HTTP/0.9 style)
        text = message or _STATUS_TEXT.get(code, "error")
        try:
            self._reply(code, {"code": ErrorCode.INVALID_REQUEST if code < 500 else 1000, "message": text[:200]}, {})
        except OSError:
            pass

    def finish(self) -> None:
        """Close gently: half-close, then drain what the client still sends (bounded), so an
        error answer is not lost to a TCP reset caused by unread input."""
        super().finish()
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            for _ in range(64):
                if not self.connection.recv(65536):
                    break
        except OSError:
            pass

    def _raw_body(self) -> Tuple[Optional[int], Union[str, bytes]]:
        """``(error status, error message)`` or ``(None, body bytes)``."""
        if self.headers.get("Transfer-Encoding"):
            return 411, "send a Content-Length (chunked bodies are not accepted)"
        declared = self.headers.get_all("Content-Length") or []
        if len(declared) > 1:
            return 400, "more than one Content-Length"
        length = digits(declared[0].strip() if declared else "0", 12)
        if length is None:
            return 400, "Content-Length must be a non-negative integer"
        if length > MAX_BODY:
            return 413, f"request body over {MAX_BODY} bytes"
        raw = self.rfile.read(length) if length else b""
        if len(raw) != length:
            return 400, "request body shorter than its Content-Length"
        return None, raw

    def _serve(self) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        try:
            url = urlsplit(self.path)
            if self.command == "GET" and url.path.rstrip("/") == "/v1/ws":
                try:
                    self._websocket(sandbox)
                except Exception:  # once upgraded, an HTTP 500 would be garbage on the stream
                    log.exception("sandbox: WebSocket connection failed")
                    self.close_connection = True
                return
            status, raw = self._raw_body()
            if status is not None or isinstance(raw, str):
                self.close_connection = True
                self._reply(*error_answer(status or 400, str(raw)))
                return
            status, payload, headers = sandbox.answer(self.command, self.path, dict(self.headers.items()), raw)
        except (socket.timeout, ConnectionError):
            self.close_connection = True
            return
        except Exception:  # a bug must cost one request, not the server
            log.exception("sandbox: internal error on %s %s", self.command, self.path[:200])
            status, payload, headers = internal_error(self.command)
        self._reply(status, payload, headers)

    def _websocket(self, sandbox: "Sandbox") -> None:
        """Upgrade to a WebSocket (RFC 6455 §4.2) and serve the streams on this connection."""
        key = self.headers.get("Sec-WebSocket-Key", "").strip()
        try:
            valid_key = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            valid_key = False
        if (self.headers.get("Upgrade", "").lower() != "websocket"
                or "upgrade" not in self.headers.get("Connection", "").lower()
                or self.headers.get("Sec-WebSocket-Version", "").strip() != "13" or not valid_key):
            self.close_connection = True
            self._reply(400, {"code": ErrorCode.INVALID_REQUEST, "message": "a WebSocket upgrade needs Upgrade: websocket, Connection: "
                                                       "Upgrade, Sec-WebSocket-Version: 13 and a 16-byte key"},
                        {"Sec-WebSocket-Version": "13"})
            return
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", frames.accept_key(key))
        self.end_headers()
        serve_websocket(sandbox.exchange, self, sandbox.idle_timeout)

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._body_discard()
        self._reply(*not_allowed(self.command))

    def _preflight(self) -> None:
        """``OPTIONS`` (a browser's CORS preflight): 204 with what the real request may carry."""
        if not self._body_discard():  # what follows is no request of its own: hang up after the answer
            self.close_connection = True
        self._reply(204, None, preflight_headers(dict(self.headers.items())))

    def _body_discard(self) -> bool:
        """Read and drop the body; ``False`` when it cannot be (chunked, no valid length, too large)."""
        length = digits((self.headers.get("Content-Length") or "0").strip(), 12)
        if self.headers.get("Transfer-Encoding") or length is None or length > MAX_BODY:
            return False
        try:
            return len(self.rfile.read(length)) == length
        except OSError:
            return False

    def _reply(self, status: int, payload: Any, headers: Dict[str, str]) -> None:
        data = b"" if status == 204 else json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        if status != 204:  # a 204 carries no body and no Content-Length (RFC 9110 §8.6)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        for key, value in {**cors_headers(), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve
    do_OPTIONS = _preflight
    do_DELETE = do_PATCH = do_HEAD = do_TRACE = do_CONNECT = _not_allowed

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class Sandbox:
    """Serve an :class:`Exchange` on ``host:port`` (port 0 picks a free one), or in this process.

    In process (``in_process=True``; the default under Pyodide, which cannot listen on a
    socket) no socket is opened and no thread started: :attr:`url` is a host under
    ``.sandbox.invalid`` that a :class:`o2lite.Client` made *after* :meth:`start` reaches
    through a ``requests`` adapter calling the exchange directly
    (:mod:`o2lite.sandbox.in_process`). The same verification of signatures and nonces, the same
    answers and the same rate limits as over HTTP (:func:`o2lite.sandbox.dispatch.answer`);
    no WebSocket streams (they need a served sandbox), and only o2lite (or a ``requests``
    session with :attr:`adapter` mounted) can reach it.

    Args:
        state: a JSON file; loaded on start if present and rewritten atomically after every
            write request, so a restarted sandbox loses nothing.
        exchange: an existing engine; otherwise one is made from ``exchange_options``
            (``rate_limits``, ``faucet_cooldown``, ``seed_book``, …).
        read_timeout: seconds an HTTP connection may stay silent before it is closed.
        idle_timeout: seconds a WebSocket may stay silent (no client message) before it is closed.
        in_process: ``True`` for no socket and no thread; ``False`` to serve on ``host:port``;
            ``None`` (default): in process under Pyodide (``sys.platform == "emscripten"``),
            served elsewhere.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, state: Optional[str] = None,
                 exchange: Optional[Exchange] = None, verbose: bool = False, read_timeout: float = READ_TIMEOUT,
                 idle_timeout: float = IDLE_TIMEOUT, in_process: Optional[bool] = None,
                 **exchange_options: Any) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0–65535, got {port!r}")
        if not 0 < read_timeout <= 3600 or not 0 < idle_timeout <= 3600:
            raise ValueError("read_timeout and idle_timeout must be seconds in (0, 3600]")
        self.in_process = EMSCRIPTEN if in_process is None else bool(in_process)
        if self.in_process and (host, port) != ("127.0.0.1", 0):
            raise ValueError("an in-process sandbox listens nowhere: leave host and port out")
        if not self.in_process and EMSCRIPTEN:
            raise O2Error("this Python (Pyodide) cannot listen on a socket: use Sandbox(in_process=True)")
        cooldown = exchange_options.get("faucet_cooldown", 0.0)
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not 0 <= cooldown <= 86_400:
            raise ValueError(f"faucet_cooldown must be seconds in [0, 86400], got {cooldown!r}")
        self.idle_timeout = idle_timeout
        self.exchange = exchange or Exchange(**exchange_options)
        self.state = state
        if state:
            _load_state(self.exchange, state)
        self._thread: Optional[threading.Thread] = None
        self._persist_lock = threading.Lock()
        self._httpd: Optional[_Server] = None
        self.adapter: Optional[InProcessAdapter] = None
        if self.in_process:
            self._url = f"http://exchange-{next(_IN_PROCESS_IDS)}.{IN_PROCESS_DOMAIN}"
            self.adapter = InProcessAdapter(self.answer)
            self.adapter.accepting = False  # until start()
        else:
            handler = type("_Handler", (_Handler,), {"timeout": read_timeout})
            self._httpd = _Server((host, port), handler)
            self._httpd.sandbox = self  # type: ignore[attr-defined]
            self._httpd.verbose = verbose  # type: ignore[attr-defined]
            bound_host, bound_port = self._httpd.server_address[:2]
            self._url = f"http://{bound_host!s}:{bound_port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, or ``http://exchange-<n>.sandbox.invalid`` in process."""
        return self._url

    def answer(self, method: str, target: str, headers: Dict[str, str], raw: bytes) -> Answer:
        """Answer one request (``target`` is the path and query, ``raw`` the body bytes) and
        write the state file after a write; shared by the server and the in-process adapter."""
        status, payload, extra = answer(self.exchange, method, target, headers, raw)
        if method.upper() != "GET" and status < 500:
            try:
                self.persist()
            except Exception:  # the write was applied, only not saved: not a refusal (internal_error)
                log.exception("sandbox: state file %s not written after %s %s", self.state, method, target[:200])
                return internal_error(method)
        return status, payload, extra

    def persist(self) -> None:
        """Write the state file now (no-op without one)."""
        if self.state:
            with self._persist_lock, self.exchange.lock:
                save_file(self.exchange, self.state)

    def start(self) -> "Sandbox":
        """Serve in a background thread; in process, make :attr:`url` reachable by new clients."""
        if self._httpd is None:
            if self.adapter is not None:
                self.adapter.accepting = True
            register(self._url, self.adapter)
            return self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(_POLL,), name="o2lite-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (a served sandbox only)."""
        if self._httpd is None:
            raise O2Error("an in-process sandbox has no server to run: use it from this process by its url")
        self._httpd.serve_forever(_POLL)

    def stop(self) -> None:
        """Stop serving and close the socket; in process, forget the URL and refuse every
        request from then on, as a stopped server does (clients made while it ran included)."""
        if self._httpd is None:
            unregister(self._url)
            if self.adapter is not None:
                self.adapter.accepting = False
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

"""Live streams over the exchange's WebSocket (PROTOCOL §12), with the standard library only.

::

    with client.stream() as stream:
        for trade in stream.trades("FUEL/USDC"):
            print(trade.price, trade.quantity)

One :class:`Stream` owns one connection (``wss://<host>/v1/ws``, or ``ws://`` for an ``http://``
base URL) and one background reader thread. Each subscription is a :class:`Subscription`:
iterate it (blocking), or ``get(timeout=…)``; its queue is bounded and an overflow raises a
:class:`~o2lite.errors.StreamError` instead of losing events silently.

The connection keeps itself alive: it answers protocol pings, sends the text ``PING`` every
``ping_interval`` seconds (≤ 30; the server closes connections idle for 60 s), and reconnects
after a drop with exponential backoff 1 s → 60 s, giving up after 10 failures in a row. After a
reconnect every subscription is sent again, depth books wait for a fresh snapshot, and a
:class:`~o2lite.streams.events.Reconnected` event is put into every subscription: re-read
balances and orders over REST, since messages in flight were lost.

TLS verifies the certificate and host name against the CA bundle ``requests`` uses
(``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` honoured, else certifi's); no HTTP proxy is needed.
Opening the connection is :mod:`o2lite.streams.handshake`; framing is :mod:`o2lite.streams.frames`.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, List, Optional
from urllib.parse import urlsplit

from . import frames
from .handshake import open_websocket, ws_url
from .._hex import to_int
from .._json import loads as json_loads
from ..errors import O2Error, StreamError, ValidationError
from ..market_data import Trade
from ..models import Order
from .events import Reconnected, parse_balances, parse_depth, parse_nonce
from .subscriptions import MAX_IDENTITIES, DepthSubscription, Subscription, identities, identity_key

__all__ = ["Stream", "Subscription", "DepthSubscription", "MAX_IDENTITIES"]

log = logging.getLogger("o2lite.stream")

_BACKOFF_FIRST, _BACKOFF_MAX, _MAX_FAILURES = 1.0, 60.0, 10  # PROTOCOL §12 reconnect rules
CLOSED = object()


class Stream:
    """One WebSocket connection to the exchange (see the module doc).

    Args:
        client: the :class:`o2lite.Client` (its base URL and market names are used).
        url: the WebSocket URL; default derived from the client's base URL + ``/v1/ws``.
        ping_interval: seconds between text ``PING`` keep-alives (≤ 30).
        queue_size: events each subscription may hold before it overflows.
        max_message: the largest message accepted, in bytes.
        connect_timeout: seconds for connecting and the handshake.
        ssl_context: a custom TLS context (default: verification against the CA bundle).
        sleep: replaces ``time.sleep`` between reconnects (tests).
    """

    def __init__(self, client: Any, *, url: Optional[str] = None, ping_interval: float = 25.0,
                 queue_size: int = 10_000, max_message: int = 4 << 20, connect_timeout: float = 10.0,
                 ssl_context: Optional[ssl.SSLContext] = None, sleep: Callable[[float], None] = time.sleep) -> None:
        if not 0 < ping_interval <= 30:
            raise ValidationError("ping_interval must be in (0, 30] seconds: the server closes idle connections")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValidationError("queue_size must be a positive integer")
        self.client = client
        self.url = url or ws_url(client.transport.base_url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValidationError(f"not a WebSocket URL: {self.url!r}")
        self._parts = parts
        self.ping_interval, self.queue_size, self.max_message = ping_interval, queue_size, max_message
        self.connect_timeout, self._ssl_context, self._sleep = connect_timeout, ssl_context, sleep
        self._subs: List[Subscription] = []
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._reader: Optional[threading.Thread] = None
        self._closing = False
        self._connected = threading.Event()
        self.reconnects = 0
        self.failure: Optional[StreamError] = None

    # --- subscriptions -----------------------------------------------------------------------

    def depth(self, market: Any, precision: int = 1) -> DepthSubscription:
        """Depth of ``market`` (pair or id) at a precision level 1–18 (sent as ``10**level``):
        a snapshot, then signed changes; ``sub.book`` is the live book."""
        level = to_int(precision, "precision level", low=1, high=18)
        market_id = self.client.markets.get(market).market_id
        request = {"action": "subscribe_depth", "market_id": market_id, "precision": str(10**level)}
        with self._lock:
            same = [s for s in self._subs if s.kind == "depth" and s.key == (market_id,)]
        if same and same[0].request != request:
            # depth updates do not name their precision: one precision per market per connection
            raise ValidationError(f"this stream already follows that market at precision "
                                  f"{same[0].request['precision']}: open another stream for another precision")
        if same:  # a second book of the same depth: ask again, and every book restarts from the snapshot
            self._send_json({"action": "unsubscribe_depth", "market_id": market_id, "precision": str(10**level)})
            for other in same:
                other.book.reset()  # type: ignore[attr-defined]
        sub = DepthSubscription(self._unsubscribe, "depth", (market_id,), request, self.queue_size)
        return self._subscribe(sub)  # type: ignore[return-value]

    def trades(self, market: Any) -> Subscription:
        """Trades of ``market``: yields :class:`~o2lite.market_data.Trade` one by one."""
        market_id = self.client.markets.get(market).market_id
        return self._subscribe(Subscription(self._unsubscribe, "trades", (market_id,),
                                            {"action": "subscribe_trades", "market_id": market_id}, self.queue_size))

    def orders(self, *who: Any) -> Subscription:
        """Orders of trade accounts (ids, :class:`~o2lite.Trader` objects or Identities):
        yields :class:`~o2lite.models.Order` one by one."""
        named = identities(who)
        return self._subscribe(Subscription(self._unsubscribe, "orders", tuple(identity_key(i) for i in named),
                                            {"action": "subscribe_orders", "identities": named}, self.queue_size))

    def balances(self, *who: Any) -> Subscription:
        """Balances of trade accounts: yields :class:`~o2lite.streams.events.BalanceUpdate`."""
        named = identities(who)
        return self._subscribe(Subscription(self._unsubscribe, "balances", tuple(identity_key(i) for i in named),
                                            {"action": "subscribe_balances", "identities": named}, self.queue_size))

    def nonce(self, *who: Any) -> Subscription:
        """Sequential nonces of trade accounts: yields :class:`~o2lite.streams.events.NonceUpdate`
        (there is no parallel-window stream: poll ``accounts.nonce_window``)."""
        named = identities(who)
        return self._subscribe(Subscription(self._unsubscribe, "nonce", tuple(identity_key(i) for i in named),
                                            {"action": "subscribe_nonce", "identities": named}, self.queue_size))

    def _subscribe(self, sub: Subscription) -> Subscription:
        with self._lock:
            if self.failure is not None:
                raise self.failure
            if self._closing:
                raise StreamError("the stream is closed")
            self._subs.append(sub)
            self._start()
        if self._connected.wait(self.connect_timeout + 1) and self._sock is not None:
            self._send_json(sub.request)
        elif self.failure is not None:
            raise self.failure
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            still = any(s.kind == sub.kind and s.key == sub.key for s in self._subs)
        if not still and self._connected.is_set():
            request = dict(sub.request, action="un" + str(sub.request["action"]))
            if sub.kind == "orders":
                request = {"action": "unsubscribe_orders"}  # connection-wide (PROTOCOL §12)
            try:
                self._send_json(request)
            except (OSError, O2Error):
                pass

    # --- connection ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._reader is None:
            self._reader = threading.Thread(target=self._run, name="o2lite-stream", daemon=True)
            self._reader.start()

    def _run(self) -> None:
        failures = 0
        first = True
        while not self._closing:
            try:
                sock, rest = open_websocket(self._parts, self.connect_timeout, self._ssl_context)
            except (OSError, O2Error, ssl.SSLError) as exc:
                failures += 1
                log.debug("stream connect failed (%d): %s", failures, exc)
                if failures >= _MAX_FAILURES or self._closing:
                    self._give_up(StreamError(f"stream gave up after {failures} failed connection attempts: {exc}"))
                    return
                self._sleep(min(_BACKOFF_FIRST * 2 ** (failures - 1), _BACKOFF_MAX))
                continue
            attempts, failures = failures, 0
            with self._lock:
                self._sock = sock
                subs = list(self._subs)
            if not first:
                self.reconnects += 1
                for sub in subs:
                    if isinstance(sub, DepthSubscription):
                        sub.book.reset()
                    self._send_json(sub.request)
                    sub._put(Reconnected(attempts + 1, time.time()))
            first = False
            self._connected.set()
            self._serve(sock, rest)
            self._connected.clear()
            with self._lock:
                self._sock = None
            try:
                sock.close()
            except OSError:
                pass

    def _give_up(self, error: StreamError) -> None:
        with self._lock:
            self.failure = error
            subs = list(self._subs)
        self._connected.set()  # wake subscribers waiting for a connection
        for sub in subs:
            sub._fail(error)

    def _serve(self, sock: socket.socket, rest: bytes) -> None:
        """Read until the connection ends (the caller reconnects unless closing)."""
        reader = frames.FrameReader(expect_masked=False, max_message=self.max_message)
        sock.settimeout(min(self.ping_interval, 1.0))
        last_ping = time.monotonic()
        data = rest
        while not self._closing:
            try:
                for message in reader.feed(data):
                    if not self._handle_frame(sock, message):
                        return
                data = b""
                if time.monotonic() - last_ping >= self.ping_interval:
                    self._send_frame(frames.OP_TEXT, b"PING")
                    last_ping = time.monotonic()
                data = sock.recv(65536)
                if not data:
                    return  # the server went away without a close frame
            except socket.timeout:
                data = b""
            except frames.ProtocolError as exc:
                log.debug("stream protocol error: %s", exc)
                self._try_close_frame(exc.code, str(exc))
                return
            except OSError as exc:
                log.debug("stream connection lost: %s", exc)
                return

    def _handle_frame(self, sock: socket.socket, message: frames.Message) -> bool:
        if message.opcode == frames.OP_PING:
            self._send_frame(frames.OP_PONG, message.payload)
        elif message.opcode == frames.OP_CLOSE:
            code, _ = frames.parse_close(message.payload)
            self._try_close_frame(code or 1000, "")
            return False
        elif message.opcode == frames.OP_TEXT:
            text = message.payload.decode("utf-8")
            if text.strip() != "PONG":
                self._dispatch(text)
        return True

    def _dispatch(self, text: str) -> None:
        try:
            message = json_loads(text)
            if not isinstance(message, Mapping):
                raise O2Error("stream message is not a JSON object")
            self._route(message)
        except (O2Error, ValueError) as exc:
            error = exc if isinstance(exc, StreamError) else StreamError(f"unreadable stream message: {exc}")
            with self._lock:
                subs = list(self._subs)
            for sub in subs:
                sub._fail(error)

    def _route(self, message: Mapping[str, Any]) -> None:
        action = str(message.get("action", ""))
        with self._lock:
            subs = list(self._subs)
        if action in ("subscribe_depth", "subscribe_depth_update"):
            update = parse_depth(message)
            for sub in subs:
                if isinstance(sub, DepthSubscription) and sub.key == (update.market_id,):
                    sub.book.apply(update)
                    if sub.book.ready:
                        sub._put(update)
        elif action in ("subscribe_trades", "trades"):
            market_id = message.get("market_id")
            trades = [Trade.from_json(t, "stream trades") for t in message.get("trades") or []]
            for sub in subs:
                if sub.kind == "trades" and (market_id is None or sub.key == (str(market_id).lower(),)):
                    for trade in trades:
                        sub._put(trade)
        elif action == "subscribe_orders":
            orders = [Order.from_json(o, "stream orders") for o in message.get("orders") or []]
            for sub in subs:
                if sub.kind == "orders":
                    for order, raw in zip(orders, message.get("orders") or []):
                        owner = raw.get("owner") if isinstance(raw, Mapping) else None
                        if owner is None or identity_key(owner) in sub.key:
                            sub._put(order)
        elif action == "subscribe_balances":
            for balance in parse_balances(message):
                for sub in subs:
                    if sub.kind == "balances" and (balance.identity is None or balance.identity in sub.key):
                        sub._put(balance)
        elif action in ("subscribe_nonce", "nonce"):
            nonce = parse_nonce(message)
            for sub in subs:
                if sub.kind == "nonce" and (nonce.contract_id is None or nonce.contract_id in sub.key):
                    sub._put(nonce)
        elif action == "error":
            self._on_error(message, subs)

    def _on_error(self, message: Mapping[str, Any], subs: List[Subscription]) -> None:
        code = message.get("code")
        text = str(message.get("message") or message.get("error") or "stream error")[:200]
        market_id = message.get("market_id")
        if message.get("resync_required"):
            for sub in subs:
                if isinstance(sub, DepthSubscription) and market_id in (None, sub.key[0]):
                    sub.book.reset()
                    self._send_json(sub.request)  # re-subscribe: a fresh snapshot follows
            return
        if code == 6000:
            return  # already subscribed: harmless after a resend
        error = StreamError(f"stream error: {text}", code=code if isinstance(code, int) else None, body=dict(message))
        for sub in subs:
            if market_id is None or sub.key == (market_id,):
                sub._fail(error)

    # --- sending ---------------------------------------------------------------------------------

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise StreamError("the stream is not connected")
        with self._send_lock:
            sock.sendall(frames.encode_frame(opcode, payload, mask=True))

    def _send_json(self, request: Mapping[str, Any]) -> None:
        try:
            self._send_frame(frames.OP_TEXT, json.dumps(request, separators=(",", ":")).encode())
        except OSError:
            pass  # the reader notices the broken connection and reconnects (re-sending this)

    def _try_close_frame(self, code: int, reason: str) -> None:
        try:
            self._send_frame(frames.OP_CLOSE, frames.close_payload(code, reason))
        except (OSError, O2Error):
            pass

    def close(self) -> None:
        """Close every subscription and the connection (a close handshake, code 1000)."""
        with self._lock:
            self._closing = True
            subs = list(self._subs)
            self._subs.clear()
        for sub in subs:
            sub.closed = True
            sub._wake()
        self._try_close_frame(1000, "bye")
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Stream({self.url!r}, subscriptions={len(self._subs)}, reconnects={self.reconnects})"


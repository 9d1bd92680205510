"""Live streams over the exchange's WebSocket (PROTOCOL §12), with the standard library only.

::

    with client.stream() as stream:
        for trade in stream.trades("FUEL/USDC"):
            print(trade.price, trade.quantity)

One :class:`Stream` owns one connection (``wss://<host>/v1/ws``, or ``ws://`` for an ``http://``
base URL) and one background reader thread. Each subscription is a :class:`Subscription`:
iterate it (blocking), or ``get(timeout=…)``, which raises
:class:`~o2lite.errors.StreamTimeout` (also a ``TimeoutError``) when nothing came in time; its
queue is bounded and an overflow raises :class:`~o2lite.errors.StreamError` instead of losing
events silently.

The connection (:mod:`o2lite.streams.connection`) answers protocol pings, sends the text ``PING``
every ``ping_interval`` seconds (≤ 30; the server closes connections idle for 60 s), treats a
peer that sends nothing for ``liveness`` seconds (default twice the ping interval) as dead, and
reconnects with a jittered backoff 1 s → 60 s before every attempt, giving up after 10 failures
in a row — a refused connection, a failed handshake, a connection that drops before it was
healthy or falls silent all count. What is sent and who gets which message is
:mod:`o2lite.streams.registry`: subscriptions made while disconnected are sent once connected,
closing one never ends another, after a reconnect everything is sent again, depth books wait for a
fresh snapshot, and each subscription gets one :class:`~o2lite.streams.events.Reconnected`:
re-read balances and orders over REST, since messages in the gap were lost.

TLS verifies the certificate and host name against the CA bundle ``requests`` uses
(``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` honoured, else certifi's); no HTTP proxy is needed.
Opening the connection is :mod:`o2lite.streams.handshake`; framing is :mod:`o2lite.streams.frames`.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlsplit

from .._hex import to_int
from ..errors import StreamError, ValidationError
from .connection import Connection
from .handshake import ws_url
from .registry import Registry
from .subscriptions import MAX_IDENTITIES, DepthSubscription, Subscription, identities, identity_key

__all__ = ["Stream", "Subscription", "DepthSubscription", "MAX_IDENTITIES"]


class Stream:
    """One WebSocket connection to the exchange (see the module doc).

    Args:
        client: the :class:`o2lite.Client` (its base URL and market names are used).
        url: the WebSocket URL; default derived from the client's base URL + ``/v1/ws``.
        ping_interval: seconds between text ``PING`` keep-alives (≤ 30).
        liveness: seconds of silence (no message, no ``PONG``) after which the connection is taken
            for dead and reconnected; default ``2 × ping_interval``; more than ``ping_interval``.
        queue_size: events each subscription may hold before it overflows.
        max_message: the largest message accepted, in bytes.
        connect_timeout: seconds for connecting and the handshake; also the longest a subscribe
            call waits for a connection (it returns at once during an outage: the subscription
            is sent once connected).
        ssl_context: a custom TLS context (default: verification against the CA bundle).
        sleep: replaces the wait before each reconnect (tests); by default it ends early on close.
    """

    def __init__(self, client: Any, *, url: Optional[str] = None, ping_interval: float = 25.0,
                 liveness: Optional[float] = None, queue_size: int = 10_000, max_message: int = 4 << 20,
                 connect_timeout: float = 10.0, ssl_context: Optional[ssl.SSLContext] = None,
                 sleep: Optional[Callable[[float], None]] = None) -> None:
        if not 0 < ping_interval <= 30:
            raise ValidationError("ping_interval must be in (0, 30] seconds: the server closes idle connections")
        liveness = 2 * ping_interval if liveness is None else liveness
        if not liveness > ping_interval:
            raise ValidationError("liveness must exceed ping_interval: a quiet but healthy peer answers only PINGs")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValidationError("queue_size must be a positive integer")
        if isinstance(max_message, bool) or not isinstance(max_message, int) or max_message < 1:
            raise ValidationError("max_message must be a positive integer (bytes)")
        if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)) or \
                not 0 < connect_timeout < 1e6:  # also refuses nan and inf: a socket takes neither
            raise ValidationError("connect_timeout must be seconds, more than 0")
        self.client = client
        self.url = url or ws_url(client.transport.base_url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValidationError(f"not a WebSocket URL: {self.url!r}")
        self.queue_size, self.connect_timeout = queue_size, connect_timeout
        self._closing = False
        self._registry = Registry(self._send_json)
        self._connection = Connection(
            parts, on_open=self._registry.opened, on_text=self._registry.dispatch, on_lost=self._registry.lost,
            on_give_up=self._registry.fail_all, ping_interval=ping_interval, liveness=liveness,
            max_message=max_message, connect_timeout=connect_timeout, ssl_context=ssl_context, sleep=sleep)

    # --- what can be seen ----------------------------------------------------------------------

    @property
    def ping_interval(self) -> float:
        """Seconds between ``PING`` keep-alives."""
        return self._connection.ping_interval

    @property
    def liveness(self) -> float:
        """Seconds of silence after which the connection is taken for dead."""
        return self._connection.liveness

    @property
    def connected(self) -> bool:
        """A connection is up now."""
        return self._connection.connected

    @property
    def reconnecting(self) -> bool:
        """The connection was lost (or not yet made) and is being retried."""
        return self._connection.reconnecting

    @property
    def retry_in(self) -> Optional[float]:
        """Seconds until the next connection attempt, while waiting for it; else ``None``."""
        at = self._connection.retry_at
        return None if at is None else max(0.0, at - time.monotonic())

    @property
    def reconnects(self) -> int:
        """Connections made after the first."""
        return self._connection.reconnects

    @property
    def failure(self) -> Optional[StreamError]:
        """Why the stream gave up, once it has (every subscription then raises it)."""
        return self._connection.failure

    # --- subscriptions -----------------------------------------------------------------------

    def depth(self, market: Any, precision: int = 1) -> DepthSubscription:
        """Depth of ``market`` (pair or id) at a precision level 1–18 (sent as ``10**level``):
        a snapshot, then signed changes; ``sub.book`` is the live book. A second book of the
        same market on one stream asks for a new snapshot, and both books restart from it."""
        level = to_int(precision, "precision level", low=1, high=18)
        market_id = self.client.markets.get(market).market_id.lower()
        request = {"action": "subscribe_depth", "market_id": market_id, "precision": str(10**level)}
        sub = DepthSubscription(self._registry.remove, "depth", (market_id,), request, self.queue_size)
        return self._subscribe(sub)  # type: ignore[return-value]

    def trades(self, market: Any) -> Subscription:
        """Trades of ``market``: yields :class:`~o2lite.market_data.Trade` one by one."""
        market_id = self.client.markets.get(market).market_id.lower()
        return self._subscribe(Subscription(self._registry.remove, "trades", (market_id,),
                                            {"action": "subscribe_trades", "market_id": market_id}, self.queue_size))

    def orders(self, *who: Any) -> Subscription:
        """Orders of trade accounts (ids, :class:`~o2lite.Trader` objects or Identities):
        yields :class:`~o2lite.models.Order` one by one, and their trigger orders as
        :class:`~o2lite.streams.events.TriggerUpdate` (PROTOCOL §14)."""
        return self._subscribe(self._by_identity("orders", who))

    def balances(self, *who: Any) -> Subscription:
        """Balances of trade accounts: yields :class:`~o2lite.streams.events.BalanceUpdate`."""
        return self._subscribe(self._by_identity("balances", who))

    def nonce(self, *who: Any) -> Subscription:
        """Sequential nonces of trade accounts: yields :class:`~o2lite.streams.events.NonceUpdate`
        (there is no parallel-window stream: poll ``accounts.nonce_window``)."""
        return self._subscribe(self._by_identity("nonce", who))

    def _by_identity(self, channel: str, who: Any) -> Subscription:
        named = identities(who)
        return Subscription(self._registry.remove, channel, tuple(identity_key(i) for i in named),
                            {"action": f"subscribe_{channel}", "identities": named}, self.queue_size)

    def _subscribe(self, sub: Subscription) -> Subscription:
        """Hold ``sub`` and start the connection; wait up to ``connect_timeout`` for it. Returns
        once ``sub`` was sent — or, when an attempt failed (the stream waits to retry) or is
        still under way after ``connect_timeout``, held to be sent on connect (should the stream
        give up first, its ``get`` raises). Raises the give-up error when the stream has given up."""
        if self.failure is not None:
            raise self.failure
        if self._closing:
            raise StreamError("the stream is closed")
        self._registry.add(sub)
        self._connection.start()
        self._connection.wait(self.connect_timeout)
        if self.failure is not None:
            self._registry.remove(sub)
            raise self.failure
        return sub

    def _send_json(self, request: Dict[str, Any]) -> bool:
        return self._connection.send_text(json.dumps(request, separators=(",", ":")))

    def close(self) -> None:
        """Close every subscription and the connection (a close handshake, code 1000)."""
        self._closing = True
        self._registry.close_all()
        self._connection.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "reconnecting" if self.reconnecting else "idle"
        return f"Stream({self.url!r}, {state}, subscriptions={len(self._registry)}, reconnects={self.reconnects})"

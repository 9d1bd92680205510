"""The WebSocket client (PROTOCOL §12), with the standard library only.

Loaded on first use by :meth:`o2lite.Client.stream`; ``import o2lite`` does not load it.

- :mod:`~o2lite.streams.frames`: RFC 6455 frames (encode, read, close payloads).
- :mod:`~o2lite.streams.handshake`: opening the connection (TCP/TLS and the HTTP upgrade).
- :mod:`~o2lite.streams.connection`: the connection's life: reader thread, keep-alives,
  liveness, paced reconnects and the give-up rule.
- :mod:`~o2lite.streams.registry`: the subscriptions held, their reference counts, what the
  server is told, and where each message goes.
- :mod:`~o2lite.streams.stream`: :class:`Stream`, the public face joining the two.
- :mod:`~o2lite.streams.subscriptions`: one subscription's queue of events.
- :mod:`~o2lite.streams.events`: the typed events and the live order book.

Imports run one way: stream → connection → handshake → frames; stream → registry →
subscriptions → events.
"""

from .events import BalanceUpdate, DepthUpdate, NonceUpdate, OrderBook, Reconnected, TriggerUpdate
from .stream import Stream
from .subscriptions import DepthSubscription, Subscription

__all__ = ["Stream", "Subscription", "DepthSubscription", "Reconnected", "DepthUpdate", "BalanceUpdate",
           "NonceUpdate", "OrderBook", "TriggerUpdate"]

"""Subscriptions of a :class:`~o2lite.streams.Stream`: the events of one subscription, queued.

Each is iterable (blocking) and has ``get(timeout=…)`` and ``close()``; its queue is bounded and
an overflow raises :class:`~o2lite.errors.StreamError` instead of losing events silently. A
timeout raises :class:`~o2lite.errors.StreamTimeout` (also a ``TimeoutError``): nothing arrived
yet, the subscription is still fine.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .._hex import b256_hex
from ..encoding import identity_json
from ..errors import StreamError, StreamTimeout, ValidationError
from .events import OrderBook

__all__ = ["Subscription", "DepthSubscription", "MAX_IDENTITIES", "identities", "identity_key"]

MAX_IDENTITIES = 10  # identities per subscription request (PROTOCOL §12: 6001 beyond)
CLOSED = object()  # the sentinel that wakes a blocked get()


class Subscription:
    """The events of one subscription, in arrival order. Iterate it, or call :meth:`get`.

    Raises :class:`StreamError` when the stream gave up, the queue overflowed, the server
    refused the subscription or sent a message of this channel that could not be read;
    iteration ends once the subscription is closed. ``key`` holds the normalised market or
    identity ids it follows.
    """

    def __init__(self, on_close: Callable[["Subscription"], None], kind: str, key: Tuple[str, ...],
                 request: Dict[str, Any], queue_size: int) -> None:
        # on_close tells the owning stream to unsubscribe; a callable, so this module needs no stream
        self._on_close = on_close
        self.kind, self.key, self.request = kind, key, request
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=queue_size)
        self._error: Optional[StreamError] = None
        self.closed = False
        self.live = False  # sent on a connection: a reconnect then owes it a Reconnected event

    def _put(self, event: Any) -> None:
        if self._error is not None or self.closed:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._error = StreamError(f"{self.kind} subscription overflowed its queue of {self._queue.maxsize} "
                                      "events: events were lost (consume faster, or raise queue_size)")

    def _fail(self, error: StreamError) -> None:
        if self._error is None:
            self._error = error
        try:
            self._queue.put_nowait(CLOSED)  # wake a blocked get()
        except queue.Full:
            pass

    def get(self, timeout: Optional[float] = None) -> Any:
        """The next event; waits up to ``timeout`` seconds (``None``: forever).

        Raises :class:`~o2lite.errors.StreamTimeout` (a ``StreamError`` and a ``TimeoutError``)
        when nothing arrived in time — the subscription stays usable — and :class:`StreamError`
        on failure, overflow, or once closed. ``timeout`` is seconds ≥ 0 (an infinite one waits
        like ``None``); anything else is a :class:`~o2lite.errors.ValidationError`.
        """
        timeout = _wait_seconds(timeout)
        if self._error is not None:
            raise self._error
        if self.closed and self._queue.empty():
            raise StreamError(f"{self.kind} subscription is closed")
        try:
            event = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise StreamTimeout(f"no {self.kind} event within {timeout} s") from None
        if event is CLOSED:
            if self._error is not None:
                raise self._error
            raise StreamError(f"{self.kind} subscription is closed")
        return event

    def __iter__(self) -> Iterator[Any]:
        while True:
            if self.closed and self._queue.empty() and self._error is None:
                return
            try:
                yield self.get()
            except StreamError:
                if self.closed and self._error is None:
                    return
                raise

    def close(self) -> None:
        """Unsubscribe (the stream stays open for other subscriptions)."""
        if not self.closed:
            self.closed = True
            self._on_close(self)
            self._wake()

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(CLOSED)
        except queue.Full:
            pass

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _wait_seconds(timeout: Any) -> Optional[float]:
    """``timeout`` checked: ``None`` or seconds ≥ 0; one past what a lock can wait is ``None``
    (``queue`` would wait forever on ``nan`` and overflow on ``inf``)."""
    if timeout is None:
        return None
    seconds = math.nan
    if isinstance(timeout, (int, float, Decimal)) and not isinstance(timeout, bool) and \
            not (isinstance(timeout, Decimal) and timeout.is_nan()):
        try:
            seconds = float(timeout)
        except OverflowError:  # an int past a float's range: no wait is that long anyway
            seconds = math.inf if timeout > 0 else -math.inf
    if not seconds >= 0:  # nan, negative, or not a number at all
        raise ValidationError(f"timeout must be seconds ≥ 0 or None, not {timeout!r:.40}")
    return None if seconds > threading.TIMEOUT_MAX else seconds


class DepthSubscription(Subscription):
    """A depth subscription; ``book`` is the live :class:`~o2lite.streams.events.OrderBook`
    (updated by the reader thread before each event is queued)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.book = OrderBook()


def identities(who: Tuple[Any, ...]) -> List[Dict[str, str]]:
    """Identities in their JSON form, ids normalised (trade account ids, Traders or Identities)."""
    out = []
    for item in who:
        if isinstance(item, Mapping):
            out.append(identity_json(item))
        elif hasattr(item, "trade_account_id") and hasattr(item, "owner"):  # a Trader
            out.append({"ContractId": item._account()})
        else:
            out.append({"ContractId": b256_hex(item, "trade account id")})
    if not out:
        raise ValidationError("name at least one trade account (id, Trader or Identity)")
    if len(out) > MAX_IDENTITIES:
        raise ValidationError(f"at most {MAX_IDENTITIES} identities per subscription (PROTOCOL §12)")
    return out


def identity_key(identity: Mapping[str, str]) -> str:
    """The id inside an Identity built by :func:`identities` (already lowercase ``0x…``)."""
    return next(iter(identity.values()))

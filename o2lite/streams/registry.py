"""The subscriptions of one stream: what the server must be told, and where each message goes
(PROTOCOL §12). No I/O of its own: it sends through the ``send`` callable it is given.

- **Reference counts.** A subscription holds one reference per (channel, id) it follows — the
  market for ``depth`` and ``trades``, each identity for ``orders``, ``balances`` and ``nonce``.
  The server is asked for an id when its count leaves 0 and told to drop it when the count
  returns to 0, so closing one subscription never ends another's. ``unsubscribe_orders`` is
  connection-wide (§12), so it is sent only when no orders subscription is left; order messages
  that name no ``owner`` reach every orders subscription of the stream.
- **Sent once connected.** A subscription made while the connection is down is held and sent
  as soon as a connection is up. After a reconnect everything held is sent again, depth books
  wait for a fresh snapshot, and each subscription that was live gets one
  :class:`~o2lite.streams.events.Reconnected`.
- **Ids normalised on the way in.** Market ids and identities are read as lowercase ``0x…``
  (PROTOCOL §2) before anything is compared, on every channel and in server errors.
- **Failure isolation.** A message that cannot be read fails only the subscriptions of its
  channel (of its market too, when that much can be read); one that is not a JSON object names
  no channel, so it is logged and dropped. A subscription that failed (that, an overflow, a
  server's refusal) is let go at once, as if closed: it only raises from then on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .._json import loads as json_loads
from .._parse import hex_id, identity_id
from ..error_codes import ErrorCode
from ..errors import StreamError, ValidationError
from ..market_data import Trade
from ..models import Order
from .events import Reconnected, parse_balances, parse_depth, parse_nonce, split_orders_message
from .subscriptions import MAX_IDENTITIES, DepthSubscription, Subscription

__all__ = ["Registry", "CHANNELS"]

log = logging.getLogger("o2lite.stream")

#: the channel of each message ``action`` the server sends (``trades``/``nonce``: aliases, §12)
CHANNELS = {"subscribe_depth": "depth", "subscribe_depth_update": "depth", "subscribe_trades": "trades",
            "trades": "trades", "subscribe_orders": "orders", "subscribe_balances": "balances",
            "subscribe_nonce": "nonce", "nonce": "nonce"}
_BY_MARKET = ("depth", "trades")
Ref = Tuple[str, str]  # (channel, market id or identity id)


def _lenient_id(value: Any) -> Optional[str]:
    """A normalised id when ``value`` reads as one, else ``None`` (to attribute a bad message)."""
    try:
        return None if value is None else hex_id(value)
    except Exception:  # noqa: BLE001 - unreadable: attributed to the whole channel instead
        return None


class Registry:
    """Subscriptions, their reference counts and the routing of messages to them."""

    def __init__(self, send: Callable[[Dict[str, Any]], bool]) -> None:
        self._send = send
        self._lock = threading.RLock()
        self._subs: List[Subscription] = []
        self._refs: Dict[Ref, int] = {}
        self._identity: Dict[Ref, Dict[str, str]] = {}  # the Identity JSON each identity is sent as
        self._precision: Dict[str, str] = {}  # depth precision per market (one per connection)
        self._online = False
        self._closed = False  # close_all() ran: nothing more is held

    def __len__(self) -> int:
        return len(self._subs)

    # --- holding subscriptions -------------------------------------------------------------------

    def add(self, sub: Subscription) -> None:
        """Hold ``sub``: its new ids are sent at once when connected, else on the next connect.
        Raises :class:`StreamError` once the stream is closed (a subscribe racing ``close()``)."""
        with self._lock:
            if self._closed:
                raise StreamError("the stream is closed")
            if sub.kind == "depth":
                self._check_precision(sub)
            fresh = [ref for ref in dict.fromkeys(self._refs_of(sub)) if self._refs.get(ref, 0) == 0]
            for ref in self._refs_of(sub):
                self._refs[ref] = self._refs.get(ref, 0) + 1
            if sub.kind == "depth":
                self._precision[sub.key[0]] = str(sub.request["precision"])
            else:
                for ref, identity in zip(self._refs_of(sub), sub.request.get("identities") or ()):
                    self._identity.setdefault(ref, identity)
            self._subs.append(sub)
            if not self._online:
                return
            sub.live = True
            if sub.kind == "depth" and not fresh:
                # the market is followed already: ask again, and every book of it restarts from
                # the new snapshot (updates do not say which subscription they are for)
                fresh = self._refs_of(sub)
                self._send_all(self._requests("unsubscribe", fresh))
                for other in self._subs:
                    if isinstance(other, DepthSubscription) and other.key == sub.key:
                        other.book.reset()
            self._send_all(self._requests("subscribe", fresh))

    def remove(self, sub: Subscription) -> None:
        """Drop ``sub``; the server is told to stop only what no other subscription still needs."""
        with self._lock:
            if sub not in self._subs:
                return
            self._subs.remove(sub)
            gone = []
            for ref in self._refs_of(sub):
                self._refs[ref] -= 1
                if self._refs[ref] == 0:
                    del self._refs[ref]
                    gone.append(ref)
            told = gone
            if sub.kind == "orders" and any(s.kind == "orders" for s in self._subs):
                told = []  # unsubscribe_orders is connection-wide: only once none is left
            if self._online and told:
                self._send_all(self._requests("unsubscribe", told))
            for ref in gone:
                self._identity.pop(ref, None)
                if ref[0] == "depth":
                    del self._precision[ref[1]]

    def _check_precision(self, sub: Subscription) -> None:
        held = self._precision.get(sub.key[0])
        if held is not None and held != sub.request["precision"]:
            # depth updates do not name their precision: one precision per market per connection
            raise ValidationError(f"this stream already follows that market at precision {held}: "
                                  "open another stream for another precision")

    @staticmethod
    def _refs_of(sub: Subscription) -> List[Ref]:
        return [(sub.kind, key) for key in sub.key]

    def _requests(self, verb: str, refs: Iterable[Ref]) -> List[Dict[str, Any]]:
        """The requests that (un)subscribe ``refs``: one per market, ≤ 10 identities per request."""
        out: List[Dict[str, Any]] = []
        by_channel: Dict[str, List[str]] = {}
        for channel, key in refs:
            by_channel.setdefault(channel, []).append(key)
        for channel, keys in by_channel.items():
            action = f"{verb}_{channel}"
            if channel in _BY_MARKET:
                for market_id in keys:
                    request = {"action": action, "market_id": market_id}
                    if channel == "depth":
                        request["precision"] = self._precision[market_id]
                    out.append(request)
            elif channel == "orders" and verb == "unsubscribe":
                out.append({"action": action})  # takes no identities (PROTOCOL §12)
            else:
                who = [self._identity[(channel, key)] for key in keys]
                out.extend({"action": action, "identities": who[i:i + MAX_IDENTITIES]}
                           for i in range(0, len(who), MAX_IDENTITIES))
        return out

    def _send_all(self, requests: List[Dict[str, Any]]) -> None:
        for request in requests:
            if not self._send(request):
                return  # the connection is being cut: the next connect sends everything again

    # --- the connection's life -------------------------------------------------------------------

    def opened(self, attempts: int, gap: Optional[float]) -> None:
        """A connection is up: send everything held; after a reconnect, books wait for a new
        snapshot and each subscription that was live gets one :class:`Reconnected`."""
        with self._lock:
            if gap is not None:
                event = Reconnected(attempts, time.time(), gap)
                for sub in self._subs:
                    if isinstance(sub, DepthSubscription):
                        sub.book.reset()
                    if sub.live:
                        sub._put(event)
            self._release_failed(list(self._subs))  # (offline still: nothing to tell the server)
            self._online = True
            for sub in self._subs:
                sub.live = True
            self._send_all(self._requests("subscribe", list(self._refs)))

    def lost(self) -> None:
        """The connection ended: nothing is sent until the next :meth:`opened`."""
        with self._lock:
            self._online = False

    def fail_all(self, error: StreamError) -> None:
        """The stream gave up: every subscription raises ``error``."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub._fail(error)

    def close_all(self) -> None:
        """The stream is closing: every subscription ends (iteration stops)."""
        with self._lock:
            self._closed = True
            subs, self._subs = self._subs, []
            self._refs.clear()
            self._identity.clear()
            self._precision.clear()
        for sub in subs:
            sub.closed = True
            sub._wake()

    # --- messages --------------------------------------------------------------------------------

    def dispatch(self, text: str) -> bool:
        """Route one text message to the subscriptions it is for → whether it was data (a JSON
        object other than an error): only data shows the connection is serving."""
        try:
            message = json_loads(text)
        except ValueError as exc:
            log.warning("stream message is not JSON, dropped: %s", exc)
            return False
        if not isinstance(message, Mapping):
            log.warning("stream message is not a JSON object, dropped")
            return False
        action = str(message.get("action", ""))
        with self._lock:
            if action == "error":
                self._on_error(message)
                self._release_failed(list(self._subs))
                return False
            channel = CHANNELS.get(action)
            mine = [s for s in self._subs if s.kind == channel]
            if channel is None or not mine:
                return True  # a channel nobody here follows (or one added later, PROTOCOL §13)
            try:
                self._route(channel, message, mine)
            except Exception as exc:  # noqa: BLE001 - whatever broke, only this channel's subs learn of it
                where = _lenient_id(message.get("market_id") if channel in _BY_MARKET else message.get("contract_id"))
                error = StreamError(f"unreadable {channel} stream message: {exc}", body=dict(message))
                for sub in mine:
                    if where is None or where in sub.key:
                        sub._fail(error)
            self._release_failed(mine)
        return True

    def _release_failed(self, subs: List[Subscription]) -> None:
        """Let go of the subscriptions among ``subs`` that failed (overflow, refusal, unreadable
        message): each raises its error from now on, so what it alone followed is unsubscribed,
        is not asked for again after a reconnect, and its queue is not kept alive by the stream."""
        for sub in subs:
            if sub._error is not None:
                self.remove(sub)

    def _route(self, channel: str, message: Mapping[str, Any], mine: List[Subscription]) -> None:
        """Parse the whole message first, then deliver: a bad message delivers nothing."""
        if channel == "depth":
            update = parse_depth(message)
            for sub in mine:
                if isinstance(sub, DepthSubscription) and update.market_id in (None, sub.key[0]):
                    sub.book.apply(update)
                    if sub.book.ready:
                        sub._put(update)
        elif channel == "trades":
            market_id = _market_of(message)
            trades = [Trade.from_json(t, "stream trades") for t in _items(message, "trades")]
            for sub in mine:
                if market_id in (None, sub.key[0]):
                    for trade in trades:
                        sub._put(trade)
        elif channel == "orders":
            plain, triggers = split_orders_message(message)  # trigger orders ride along (PROTOCOL §14)
            orders: List[Tuple[Any, Optional[str]]] = [(Order.from_json(o, "stream orders"), identity_id(
                o.get("owner"), "stream orders", "owner")) for o in _items({"orders": plain}, "orders")]
            for sub in mine:
                for order, owner in orders + [(t, t.owner) for t in triggers]:
                    if owner is None or owner in sub.key:
                        sub._put(order)
        elif channel == "balances":
            for balance in parse_balances(message):
                for sub in mine:
                    if balance.identity is None or balance.identity in sub.key:
                        sub._put(balance)
        else:
            nonce = parse_nonce(message)
            for sub in mine:
                if nonce.contract_id is None or nonce.contract_id in sub.key:
                    sub._put(nonce)

    def _on_error(self, message: Mapping[str, Any]) -> None:
        code = message.get("code")
        text = str(message.get("message") or message.get("error") or "stream error")[:200]
        market_id = _lenient_id(message.get("market_id"))
        if message.get("resync_required"):
            resync = [s for s in self._subs if isinstance(s, DepthSubscription)
                      and market_id in (None, s.key[0])]
            for book_sub in resync:
                book_sub.book.reset()
            self._send_all(self._requests("subscribe", {("depth", s.key[0]) for s in resync}))
            return  # a fresh snapshot follows
        if code == ErrorCode.ALREADY_SUBSCRIBED:
            return  # harmless: a request sent again after a reconnect or a resync
        error = StreamError(f"stream error: {text}", code=code if isinstance(code, int) else None, body=dict(message))
        # an error naming a market fails that market's subscriptions; one naming none cannot be
        # told apart, so it fails every subscription rather than leave a refused one silent
        for sub in list(self._subs):
            if market_id is None or market_id in sub.key:
                sub._fail(error)


def _market_of(message: Mapping[str, Any]) -> Optional[str]:
    value = message.get("market_id")
    return None if value is None else hex_id(value, "market_id", f"stream {message.get('action')}")


def _items(message: Mapping[str, Any], name: str) -> List[Any]:
    items = message.get(name) or []
    if not isinstance(items, list):
        raise StreamError(f"stream {name}: {name!r} is not a list")
    return items

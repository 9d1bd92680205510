"""The sandbox's WebSocket streams (PROTOCOL §12) on the same port as its REST API.

``GET /v1/ws`` with ``Upgrade: websocket`` is handed to :func:`serve_websocket`, which runs the
connection in the HTTP handler's thread (a second thread writes). Every subscription of §12 is
served with the exchange's shapes: a depth snapshot then **signed** deltas as orders rest, fill
and cancel; trades, orders, balances and nonces pushed on every change; ``PING`` → ``PONG``;
error frames for unknown actions and bad fields (6002), duplicates (6000) and more than 10
identities (6001); connections idle longer than ``idle_timeout`` (60 s) are closed.

Publishing never blocks the exchange: messages are queued per connection (bounded; a client too
slow to keep up is disconnected with 1008) and written by that connection's writer thread. A
depth snapshot is queued under the exchange lock, so it is always followed by exactly the
deltas that come after it.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Set, Tuple

from ..streams import frames
from .._hex import b256_hex
from .._json import loads as json_loads
from .._parse import digits
from ..errors import ValidationError
from ..error_codes import ErrorCode

if TYPE_CHECKING:  # pragma: no cover
    from .exchange import Exchange

__all__ = ["Hub", "serve_websocket", "IDLE_TIMEOUT", "MAX_IDENTITIES"]

log = logging.getLogger("o2lite.sandbox")

IDLE_TIMEOUT = 60.0  # seconds without a client message before the server closes (PROTOCOL §12)
MAX_IDENTITIES = 10  # identities per subscription request (6001 beyond)
_QUEUE = 10_000  # messages queued for one connection before it is dropped as too slow
_TOPICS = ("depth", "trades", "orders", "balances", "nonce")


class _Connection:
    """One client: its subscriptions and its outgoing queue."""

    def __init__(self) -> None:
        self.depth: Dict[str, Set[int]] = {}  # market id -> precisions
        self.markets: Dict[str, Set[str]] = {"trades": set()}
        self.accounts: Dict[str, Set[str]] = {"orders": set(), "balances": set(), "nonce": set()}
        self.outbox: "queue.Queue[Optional[bytes]]" = queue.Queue(maxsize=_QUEUE)  # encoded frames
        self.overflowed = False
        self.stopped = False

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue a JSON text message."""
        self.frame(frames.OP_TEXT, json.dumps(message, separators=(",", ":")).encode())

    def frame(self, opcode: int, payload: bytes) -> None:
        """Queue one frame; only the writer thread writes, so frames never interleave."""
        try:
            self.outbox.put_nowait(frames.encode_frame(opcode, payload, mask=False))
        except queue.Full:
            self.overflowed = True


def _bucket(price: int, precision: int, side: str) -> int:
    if precision <= 1:
        return price
    return price // precision * precision if side == "Buy" else -(-price // precision) * precision


class Hub:
    """Who listens to what, and the publishing of changes after each transaction."""

    def __init__(self) -> None:
        self._conns: Set[_Connection] = set()

    def add(self, conn: _Connection) -> None:
        """Start publishing to ``conn`` (call under the exchange lock)."""
        self._conns.add(conn)

    def remove(self, conn: _Connection) -> None:
        """Stop publishing to ``conn``."""
        self._conns.discard(conn)

    def idle(self) -> bool:
        """True when nobody listens (then nothing is computed)."""
        return not self._conns

    def watch(self, ex: "Exchange", accounts: Iterable[str], markets: Iterable[Dict[str, Any]]) -> "Optional[_Watch]":
        """Remember the books and trade counts before a change (``None`` when nobody listens)."""
        return None if self.idle() else _Watch(self, ex, accounts, markets)


class _Watch:
    """The state before one transaction; :meth:`publish` sends what changed (under the lock)."""

    def __init__(self, hub: Hub, ex: "Exchange", accounts: Iterable[str], markets: Iterable[Dict[str, Any]]) -> None:
        self.hub, self.ex = hub, ex
        self.accounts = set(accounts)
        self.markets = {m["market_id"]: m for m in markets}
        self.books = {mid: self._levels(mid) for mid in self.markets}
        self.trades = {mid: len(ex.trades[mid]) for mid in self.markets}
        ex.touched_orders = []

    def _levels(self, market_id: str) -> Dict[str, Dict[int, int]]:
        book = self.ex.books[market_id]
        return {side: dict(book.depth(side, 1)) for side in ("Buy", "Sell")}

    def publish(self) -> None:
        ex, now = self.ex, self.ex.clock()
        stamps = {"onchain_timestamp": str(int(now)), "seen_timestamp": str(int(now * 1e9))}
        orders = ex.touched_orders or []
        ex.touched_orders = None
        self.accounts |= {o.account for o in orders}
        for market_id, before in self.books.items():
            after = self._levels(market_id)
            raw = {side: {p: after[side].get(p, 0) - before[side].get(p, 0)
                          for p in set(before[side]) | set(after[side])} for side in ("Buy", "Sell")}
            new_trades = ex.trades[market_id][self.trades[market_id]:]
            for conn in list(self.hub._conns):
                for precision in conn.depth.get(market_id, ()):
                    changes: Dict[str, Dict[int, int]] = {"Buy": {}, "Sell": {}}
                    for side, deltas in raw.items():
                        for price, delta in deltas.items():
                            if delta:
                                key = _bucket(price, precision, side)
                                changes[side][key] = changes[side].get(key, 0) + delta
                    levels = {side: [{"price": str(p), "quantity": str(q)} for p, q in sorted(c.items()) if q]
                              for side, c in changes.items()}
                    if levels["Buy"] or levels["Sell"]:
                        conn.send(dict({"action": "subscribe_depth_update", "market_id": market_id,
                                        "changes": {"buys": levels["Buy"], "sells": levels["Sell"]}}, **stamps))
                if new_trades and market_id in conn.markets["trades"]:
                    from .reads import trade_json

                    conn.send(dict({"action": "subscribe_trades", "market_id": market_id,
                                    "trades": [trade_json(t) for t in new_trades]}, **stamps))
        for conn in list(self.hub._conns):
            mine = [o for o in orders if o.account in conn.accounts["orders"]]
            if mine:
                conn.send(dict({"action": "subscribe_orders", "orders": [
                    o.to_json(ex.by_market_id[o.market_id]["base"]["decimals"]) for o in mine]}, **stamps))
            for account in self.accounts & conn.accounts["balances"]:
                conn.send(dict({"action": "subscribe_balances", "balance": balances(ex, account)}, **stamps))
            for account in self.accounts & conn.accounts["nonce"]:
                if account in ex.accounts:
                    conn.send(dict({"action": "subscribe_nonce", "contract_id": account,
                                    "nonce": str(ex.accounts[account]["nonce"])}, **stamps))


def balances(ex: "Exchange", account: str) -> List[Dict[str, Any]]:
    """Every asset's balance of an account, as the balance stream carries it."""
    from .reads import balance_json

    out = []
    for asset, _ in ex.assets().values():
        entry = balance_json(ex, account, asset)
        out.append(dict(entry, identity={"ContractId": account}, asset_id=asset))
    return out


# --- one connection --------------------------------------------------------------------------

def _error(conn: _Connection, code: int, message: str, **extra: Any) -> None:
    conn.send(dict({"action": "error", "code": code, "message": message}, **extra))


def _accounts_of(ex: "Exchange", identities: Any) -> List[str]:
    if not isinstance(identities, list) or not identities:
        raise ValidationError("identities must be a non-empty list of Identities")
    if len(identities) > MAX_IDENTITIES:
        raise OverflowError(f"at most {MAX_IDENTITIES} identities per subscription")
    out = []
    for identity in identities:
        if not isinstance(identity, Mapping) or len(identity) != 1:
            raise ValidationError("an identity is {\"ContractId\": …} or {\"Address\": …}")
        (kind, value), = identity.items()
        address = b256_hex(value, kind)
        if kind == "Address":
            address = ex.by_owner.get(address, address)  # an owner means its trade account
        elif kind != "ContractId":
            raise ValidationError(f"unknown identity kind {str(kind)[:20]}")
        out.append(address)
    return out


def _handle(ex: "Exchange", conn: _Connection, request: Mapping[str, Any]) -> None:
    """One client request (under the exchange lock: subscribing and snapshotting are atomic)."""
    action = request.get("action")
    if action in ("subscribe_depth", "unsubscribe_depth"):
        market = ex.market_by_id(str(request.get("market_id", "")).lower())
        text = str(request.get("precision", "10"))
        precision = digits(text, 19)
        if precision is None or text.strip("0") != "1":
            raise ValidationError("precision must be a power of ten from 10 to 10^18, as a string")
        held = conn.depth.setdefault(market["market_id"], set())
        if action == "unsubscribe_depth":
            held.discard(precision)
            return
        if held:  # updates do not name their precision: one depth subscription per market
            return _error(conn, ErrorCode.ALREADY_SUBSCRIBED, "Already subscribed", market_id=market["market_id"])
        held.add(precision)
        book = ex.books[market["market_id"]]
        view = {side: [{"price": str(p), "quantity": str(q)} for p, q in book.depth(name, precision)]
                for side, name in (("buys", "Buy"), ("sells", "Sell"))}
        conn.send({"action": "subscribe_depth", "market_id": market["market_id"],
                   "view": dict(view, precision=str(precision))})
    elif action in ("subscribe_trades", "unsubscribe_trades"):
        market = ex.market_by_id(str(request.get("market_id", "")).lower())
        markets = conn.markets["trades"]
        if action == "unsubscribe_trades":
            markets.discard(market["market_id"])
        elif market["market_id"] in markets:
            _error(conn, ErrorCode.ALREADY_SUBSCRIBED, "Already subscribed", market_id=market["market_id"])
        else:
            markets.add(market["market_id"])
    elif action == "unsubscribe_orders":
        conn.accounts["orders"].clear()  # connection-wide (PROTOCOL §12)
    elif isinstance(action, str) and action.split("_", 1)[-1] in ("orders", "balances", "nonce") \
            and action.split("_", 1)[0] in ("subscribe", "unsubscribe"):
        verb, topic = action.split("_", 1)
        accounts = _accounts_of(ex, request.get("identities"))
        if verb == "unsubscribe":
            conn.accounts[topic].difference_update(accounts)
            return
        conn.accounts[topic].update(accounts)
        for account in accounts:  # the current state first, as the exchange does
            if topic == "nonce" and account in ex.accounts:
                conn.send({"action": "subscribe_nonce", "contract_id": account,
                           "nonce": str(ex.accounts[account]["nonce"])})
            elif topic == "balances":
                conn.send({"action": "subscribe_balances", "balance": balances(ex, account)})
    else:
        _error(conn, ErrorCode.SUBSCRIPTION_ERROR, f"Subscription error: unknown action {str(action)[:40]!r}")


def _writer(sock: socket.socket, conn: _Connection) -> None:
    while not conn.stopped:
        frame = conn.outbox.get()
        if frame is None:
            return
        try:
            sock.sendall(frame)
        except OSError:
            return


def serve_websocket(ex: "Exchange", handler: Any, idle_timeout: float = IDLE_TIMEOUT) -> None:
    """Run one upgraded connection to its end (the handshake was already answered)."""
    sock: socket.socket = handler.connection
    conn = _Connection()
    writer = threading.Thread(target=_writer, args=(sock, conn), name="o2lite-sandbox-ws", daemon=True)
    writer.start()
    reader = frames.FrameReader(expect_masked=True, max_message=1 << 20)
    # Bytes the client sent right behind its handshake may sit in the HTTP reader's buffer; take
    # them without blocking, then read the socket itself (a file object is unusable after a timeout).
    sock.setblocking(False)
    try:
        pending = handler.rfile.read1(65536) or b""
    except OSError:
        pending = b""
    sock.settimeout(min(idle_timeout, 1.0))
    last_heard = time.monotonic()
    with ex.lock:
        ex.hub.add(conn)
    close: Tuple[int, str] = (1000, "")
    try:
        while True:
            if conn.overflowed:
                close = (1008, "client too slow: messages queued beyond the limit")
                break
            try:
                data, pending = (pending, b"") if pending else (sock.recv(65536), b"")
            except socket.timeout:
                if time.monotonic() - last_heard > idle_timeout:
                    close = (1000, "idle")
                    break
                continue
            if not data:
                return
            last_heard = time.monotonic()
            try:
                messages = reader.feed(data)
            except frames.ProtocolError as exc:
                close = (exc.code, str(exc))
                break
            if not _answer(ex, conn, messages):
                break
    except OSError:
        return
    finally:
        with ex.lock:
            ex.hub.remove(conn)
        conn.frame(frames.OP_CLOSE, frames.close_payload(*close))  # after what was queued (dropped if full)
        conn.stopped = conn.overflowed  # a client too slow to read gets no more than the close
        try:
            conn.outbox.put_nowait(None)
        except queue.Full:
            conn.stopped = True
        writer.join(timeout=2)
        if writer.is_alive():  # the client stopped reading: do not wait for it
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        handler.close_connection = True


def _answer(ex: "Exchange", conn: _Connection, messages: List[frames.Message]) -> bool:
    """Handle client frames; False when the connection should end."""
    for message in messages:
        if message.opcode == frames.OP_CLOSE:
            return False
        if message.opcode == frames.OP_PING:
            conn.frame(frames.OP_PONG, message.payload)
            continue
        if message.opcode != frames.OP_TEXT:
            continue
        text = message.payload.decode("utf-8")
        if text.strip() == "PING":
            conn.frame(frames.OP_TEXT, b"PONG")
            continue
        try:
            request = json_loads(text)
            if not isinstance(request, Mapping):
                raise ValidationError("a request is a JSON object with an action")
            with ex.lock:
                _handle(ex, conn, request)
        except OverflowError as exc:
            _error(conn, ErrorCode.TOO_MANY_SUBSCRIPTIONS, f"Too many subscriptions: {exc}")
        except Exception as exc:  # noqa: BLE001 - every bad field is answered, never fatal
            _error(conn, ErrorCode.SUBSCRIPTION_ERROR, f"Subscription error: {str(exc)[:200]}")
    return True

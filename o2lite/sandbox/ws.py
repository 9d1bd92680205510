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
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from ..streams import frames
from .._hex import b256_hex
from .._json import loads as json_loads
from .._parse import digits
from ..errors import ValidationError
from ..error_codes import ErrorCode
from .core import ExchangeCore
from .hub import Connection, balances


__all__ = ["serve_websocket", "IDLE_TIMEOUT", "MAX_IDENTITIES"]

log = logging.getLogger("o2lite.sandbox")

IDLE_TIMEOUT = 60.0  # seconds without a client message before the server closes (PROTOCOL §12)
MAX_IDENTITIES = 10  # identities per subscription request (6001 beyond)
_TOPICS = ("depth", "trades", "orders", "balances", "nonce")


# --- one connection --------------------------------------------------------------------------

def _error(conn: Connection, code: int, message: str, **extra: Any) -> None:
    conn.send(dict({"action": "error", "code": code, "message": message}, **extra))


def _accounts_of(ex: ExchangeCore, identities: Any) -> List[str]:
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


def _handle(ex: ExchangeCore, conn: Connection, request: Mapping[str, Any]) -> None:
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


def _writer(sock: socket.socket, conn: Connection) -> None:
    while not conn.stopped:
        frame = conn.outbox.get()
        if frame is None:
            return
        try:
            sock.sendall(frame)
        except OSError:
            return


def serve_websocket(ex: ExchangeCore, handler: Any, idle_timeout: float = IDLE_TIMEOUT) -> None:
    """Run one upgraded connection to its end (the handshake was already answered)."""
    sock: socket.socket = handler.connection
    conn = Connection()
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


def _answer(ex: ExchangeCore, conn: Connection, messages: List[frames.Message]) -> bool:
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

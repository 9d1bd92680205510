"""Who listens to what on the sandbox's WebSocket, and what each transaction publishes.

The exchange core owns a :class:`Hub`; :mod:`o2lite.sandbox.ws` serves the connections that
register with it. The hub reads the exchange through :class:`~o2lite.sandbox.views.ExchangeView`
only, so this module needs neither the core nor the routes.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Set

from ..streams import frames
from .views import ExchangeView, balance_json, trade_json

__all__ = ["Hub", "Connection", "balances"]

_QUEUE = 10_000  # messages queued for one connection before it is dropped as too slow


class Connection:
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
        self._conns: Set[Connection] = set()

    def add(self, conn: Connection) -> None:
        """Start publishing to ``conn`` (call under the exchange lock)."""
        self._conns.add(conn)

    def remove(self, conn: Connection) -> None:
        """Stop publishing to ``conn``."""
        self._conns.discard(conn)

    def idle(self) -> bool:
        """True when nobody listens (then nothing is computed)."""
        return not self._conns

    def watch(self, ex: "ExchangeView", accounts: Iterable[str], markets: Iterable[Dict[str, Any]]) -> "Optional[_Watch]":
        """Remember the books and trade counts before a change (``None`` when nobody listens)."""
        return None if self.idle() else _Watch(self, ex, accounts, markets)


class _Watch:
    """The state before one transaction; :meth:`publish` sends what changed (under the lock)."""

    def __init__(self, hub: Hub, ex: "ExchangeView", accounts: Iterable[str], markets: Iterable[Dict[str, Any]]) -> None:
        self.hub, self.ex = hub, ex
        self.accounts = set(accounts)
        self.markets = {m["market_id"]: m for m in markets}
        self.books = {mid: self._levels(mid) for mid in self.markets}
        self.trades = {mid: len(ex.trades[mid]) for mid in self.markets}
        ex.touched_orders, ex.touched_triggers = [], []

    def _levels(self, market_id: str) -> Dict[str, Dict[int, int]]:
        book = self.ex.books[market_id]
        return {side: dict(book.depth(side, 1)) for side in ("Buy", "Sell")}

    def publish(self) -> None:
        ex, now = self.ex, self.ex.clock()
        stamps = {"onchain_timestamp": str(int(now)), "seen_timestamp": str(int(now * 1e9))}
        orders, triggers = ex.touched_orders or [], ex.touched_triggers or []
        ex.touched_orders = ex.touched_triggers = None
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
                    conn.send(dict({"action": "subscribe_trades", "market_id": market_id,
                                    "trades": [trade_json(t) for t in new_trades]}, **stamps))
        for conn in list(self.hub._conns):
            mine = [o for o in orders if o.account in conn.accounts["orders"]]
            # trigger orders ride beside them, as the earlier official line names it (PROTOCOL §14)
            my_triggers = [t for t in triggers if t["owner"]["ContractId"] in conn.accounts["orders"]]
            if mine or my_triggers:
                message = {"action": "subscribe_orders", "orders": [
                    o.to_json(ex.by_market_id[o.market_id]["base"]["decimals"]) for o in mine]}
                if my_triggers:
                    message["standalone_trigger_orders"] = my_triggers
                conn.send(dict(message, **stamps))
            for account in self.accounts & conn.accounts["balances"]:
                conn.send(dict({"action": "subscribe_balances", "balance": balances(ex, account)}, **stamps))
            for account in self.accounts & conn.accounts["nonce"]:
                if account in ex.accounts:
                    conn.send(dict({"action": "subscribe_nonce", "contract_id": account,
                                    "nonce": str(ex.accounts[account]["nonce"])}, **stamps))


def balances(ex: "ExchangeView", account: str) -> List[Dict[str, Any]]:
    """Every asset's balance of an account, as the balance stream carries it."""
    out = []
    for asset, _ in ex.assets().values():
        entry = balance_json(ex, account, asset)
        out.append(dict(entry, identity={"ContractId": account}, asset_id=asset))
    return out

"""What a WebSocket stream delivers (PROTOCOL §12), parsed like REST answers, and the live
local order book kept from a depth stream.

Trades and orders arrive as the same :class:`~o2lite.models.Trade` / :class:`~o2lite.models.Order`
as over REST (chain integers as ``int``, ``.raw`` kept); trigger orders on an orders
subscription as :class:`TriggerUpdate` (PROTOCOL §14). Depth, balances and nonces have their
own small frozen dataclasses here. :class:`Reconnected` is put into every subscription after the
connection was re-established, so a caller knows to re-read balances and orders over REST
(messages in flight while disconnected are lost).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .._parse import chain_int, identity_id, mapping, opt_id, req_int, require, unwrap_list
from ..errors import O2Error
from ..market_data import DepthLevel
from ..trigger_models import TriggerOrder

__all__ = ["Reconnected", "DepthUpdate", "BalanceUpdate", "NonceUpdate", "TriggerUpdate", "OrderBook", "parse_depth",
           "parse_balances", "parse_nonce", "split_orders_message"]


@dataclass(frozen=True)
class Reconnected:
    """The stream reconnected and re-subscribed: ``attempts`` connection tries it took, ``at``
    (Unix seconds) when it was back, ``gap`` the seconds without a connection. Events of the gap
    were lost: re-read balances and orders over REST. Put once per subscription per reconnect."""

    attempts: int
    at: float
    gap: float = 0.0


@dataclass(frozen=True)
class DepthUpdate:
    """A depth message: an absolute ``snapshot`` (levels are sizes) or an update whose level
    quantities are **signed changes** (add to the level; the level is gone at 0)."""

    market_id: Optional[str]
    snapshot: bool
    buys: Tuple[Tuple[int, int], ...]
    sells: Tuple[Tuple[int, int], ...]
    seen_timestamp: Optional[int] = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class BalanceUpdate:
    """One asset balance of one identity, as ``GET /v1/balance`` totals."""

    identity: Optional[str]
    asset_id: Optional[str]
    total_locked: int
    total_unlocked: int
    trading_account_balance: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class NonceUpdate:
    """The sequential nonce of a trade account after a transaction."""

    contract_id: Optional[str]
    nonce: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TriggerUpdate:
    """A trigger order's news on an orders subscription: ``trigger`` is the parsed
    :class:`~o2lite.trigger_models.TriggerOrder` (its ``status`` says Active, Activated,
    CanceledBySibling, …), or ``None`` when the entry has a shape o2lite does not know — then
    ``problem`` says why and ``raw`` keeps it; such an entry never fails the subscription."""

    trigger: Optional[TriggerOrder]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    problem: Optional[str] = None
    owner: Optional[str] = None  # the trade account it belongs to, when the entry names one readably


_NESTED_TRIGGERS = ("triggers", "active_trigger_orders")  # the two official lines' names


def _owner(entry: Any) -> Optional[str]:
    try:
        return identity_id(entry.get("owner"), "stream orders", "owner") if isinstance(entry, Mapping) else None
    except O2Error:
        return None


def _trigger_update(entry: Any, parent_owner: Optional[str] = None) -> TriggerUpdate:
    raw = entry if isinstance(entry, Mapping) else {"entry": entry}
    owner = _owner(raw) or parent_owner  # a nested trigger belongs to its order's owner
    try:
        return TriggerUpdate(TriggerOrder.from_json(entry, "stream orders"), raw, owner=owner)
    except O2Error as exc:
        return TriggerUpdate(None, raw, exc.message, owner)


def split_orders_message(message: Mapping[str, Any]) -> Tuple[List[Any], List[TriggerUpdate]]:
    """A ``subscribe_orders`` message → (its plain order entries, its trigger updates).

    Triggers come as entries of ``standalone_trigger_orders`` (the earlier official line, *read*),
    as entries of ``orders`` with ``kind: "trigger"``, or nested in an order under ``triggers`` /
    ``active_trigger_orders``. Never raises for a trigger: unknown shapes become updates with a
    ``problem``.
    """
    orders = message.get("orders") or []
    plain = [o for o in orders if not (isinstance(o, Mapping) and o.get("kind") == "trigger")] \
        if isinstance(orders, list) else orders
    entries: List[Tuple[Any, Optional[str]]] = [(o, None) for o in orders if isinstance(o, Mapping)
                                                and o.get("kind") == "trigger"] if isinstance(orders, list) else []
    for order in plain if isinstance(plain, list) else []:
        for key in _NESTED_TRIGGERS:
            nested = order.get(key) if isinstance(order, Mapping) else None
            # routed by the order's owner: a nested trigger rarely names its own
            entries += [(t, _owner(order)) for t in nested] if isinstance(nested, list) else []
    standalone = message.get("standalone_trigger_orders")
    if isinstance(standalone, list):
        entries += [(t, None) for t in standalone]
    elif standalone is not None:
        entries.append(({"standalone_trigger_orders": standalone}, None))
    return plain, [_trigger_update(e, owner) for e, owner in entries[:10_000]]


def _signed(value: Any, name: str, where: str) -> int:
    """A signed chain integer (depth changes may be negative)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -chain_int(value.strip()[1:], name, where)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return -chain_int(-value, name, where)
    return chain_int(value, name, where)


def _levels(raw: Any, where: str, signed: bool) -> Tuple[Tuple[int, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise O2Error(f"{where}: depth levels are not a list")
    out = []
    for level in raw:
        if isinstance(level, list) and len(level) == 2:
            price, quantity = level
        else:
            level = mapping(level, where, "a depth level")
            price, quantity = require(level, "price", where), require(level, "quantity", where)
        out.append((chain_int(price, "price", where),
                    _signed(quantity, "quantity", where) if signed else chain_int(quantity, "quantity", where)))
    return tuple(out)


def parse_depth(message: Mapping[str, Any]) -> DepthUpdate:
    """A ``subscribe_depth`` snapshot or a ``subscribe_depth_update`` message."""
    where = "stream depth"
    snapshot = message.get("action") == "subscribe_depth"
    if snapshot:
        book = mapping(message.get("view") or message.get("orders") or {}, where, "a depth view")
    else:
        book = mapping(message.get("changes") or {}, where, "depth changes")
    seen = message.get("seen_timestamp")
    return DepthUpdate(opt_id(message, "market_id", where), snapshot,
                       _levels(book.get("buys"), where, not snapshot), _levels(book.get("sells"), where, not snapshot),
                       None if seen is None else chain_int(seen, "seen_timestamp", where), raw=message)


def parse_balances(message: Mapping[str, Any]) -> List[BalanceUpdate]:
    """A ``subscribe_balances`` message: its ``balance`` list."""
    where = "stream balances"
    out = []
    for entry in unwrap_list(message, ("balance", "balances"), where):
        entry = mapping(entry, where, "a balance")
        out.append(BalanceUpdate(identity_id(entry.get("identity"), where), opt_id(entry, "asset_id", where),
                                 req_int(entry, "total_locked", where), req_int(entry, "total_unlocked", where),
                                 chain_int(entry.get("trading_account_balance") or 0, "trading_account_balance", where),
                                 raw=entry))
    return out


def parse_nonce(message: Mapping[str, Any]) -> NonceUpdate:
    """A ``subscribe_nonce`` message."""
    where = "stream nonce"
    return NonceUpdate(opt_id(message, "contract_id", where), req_int(message, "nonce", where), raw=message)


class OrderBook:
    """A local order book kept from a depth stream: ``{price: quantity}`` per side, chain units.

    A snapshot replaces the book; an update adds each signed change and drops a level that
    reaches zero (or below: a server's rounding never leaves a negative level here). The reader
    thread applies updates while the caller reads: each read sees the book between two updates
    (a lock; before it, ``best_bid`` could raise ``KeyError`` when an update removed the best
    level mid-read, and ``spread`` mix two states).
    """

    def __init__(self) -> None:
        self._buys: Dict[int, int] = {}
        self._sells: Dict[int, int] = {}
        self._lock = threading.Lock()
        self.ready = False  # True once a snapshot has arrived

    def apply(self, update: DepthUpdate) -> None:
        """Apply a snapshot or (once a snapshot was seen) an update; earlier updates are ignored."""
        with self._lock:
            if update.snapshot:
                self._buys = {p: q for p, q in update.buys if q > 0}
                self._sells = {p: q for p, q in update.sells if q > 0}
                self.ready = True
                return
            if not self.ready:
                return
            for side, changes in ((self._buys, update.buys), (self._sells, update.sells)):
                for price, change in changes:
                    quantity = side.get(price, 0) + change
                    if quantity > 0:
                        side[price] = quantity
                    else:
                        side.pop(price, None)

    def reset(self) -> None:
        """Forget everything until the next snapshot (after a reconnect or a resync)."""
        with self._lock:
            self._buys, self._sells, self.ready = {}, {}, False

    @property
    def buys(self) -> Tuple[DepthLevel, ...]:
        """Bids, best (highest) first."""
        with self._lock:
            return tuple(DepthLevel(p, q) for p, q in sorted(self._buys.items(), reverse=True))

    @property
    def sells(self) -> Tuple[DepthLevel, ...]:
        """Asks, best (lowest) first."""
        with self._lock:
            return tuple(DepthLevel(p, q) for p, q in sorted(self._sells.items()))

    @staticmethod
    def _best(side: Dict[int, int], pick: Any) -> Optional[DepthLevel]:
        if not side:
            return None
        price = pick(side)
        return DepthLevel(price, side[price])

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        """The highest bid, or ``None``."""
        with self._lock:
            return self._best(self._buys, max)

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        """The lowest ask, or ``None``."""
        with self._lock:
            return self._best(self._sells, min)

    @property
    def spread(self) -> Optional[int]:
        """Best ask − best bid (chain price units), or ``None`` when a side is empty."""
        with self._lock:
            bid, ask = self._best(self._buys, max), self._best(self._sells, min)
        return None if bid is None or ask is None else ask.price - bid.price

    def levels(self, n: int) -> Tuple[Tuple[DepthLevel, ...], Tuple[DepthLevel, ...]]:
        """The best ``n`` levels of each side: ``(buys, sells)``, of one state of the book."""
        with self._lock:
            buys, sells = sorted(self._buys.items(), reverse=True)[:n], sorted(self._sells.items())[:n]
        return tuple(DepthLevel(p, q) for p, q in buys), tuple(DepthLevel(p, q) for p, q in sells)

    def __repr__(self) -> str:
        return f"OrderBook(bids={len(self._buys)}, asks={len(self._sells)}, spread={self.spread})"

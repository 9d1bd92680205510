"""Trigger orders as the exchange reports them: ``GET /v1/orders/active`` and the orders stream
(PROTOCOL §14), parsed tolerantly like every other answer.

``GET /v1/orders/active`` answers ``{identity, market_id, entries: [...]}``; an entry is either a
resting order with ``kind: "order"`` and its child triggers nested — the two official SDK lines
name that list ``triggers`` or ``active_trigger_orders``, both are read — or a standalone trigger
with ``kind: "trigger"``. A cursor (``next_timestamp``, ``next_id``, ``next_kind``) may follow.
An entry of a kind not known here is kept untouched in ``other`` rather than failing the page.

Trigger status values (official): Active, Activated, CanceledByUser, CanceledBySibling,
ForceCanceled, NotEnoughFunds, EjectedByAdmin, ParentOrderCanceled — kept as the server's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from ._parse import chain_int, hex_id, identity_id, mapping, opt_id, opt_int, req_int, require, side_of
from .errors import O2Error
from .market import Market
from .market_data import Raw, raw_field
from .models import Order

__all__ = ["TriggerOrder", "ActiveOrder", "ActiveCursor", "ActiveOrders", "TRIGGER_STATUSES"]

TRIGGER_STATUSES = ("Active", "Activated", "CanceledByUser", "CanceledBySibling", "ForceCanceled",
                    "NotEnoughFunds", "EjectedByAdmin", "ParentOrderCanceled")
_NESTED = ("triggers", "active_trigger_orders")  # the two SDK lines' names for an order's triggers
_MAX_ENTRIES = 10_000  # bounded reading of a hostile answer


def _quantity(value: Any, where: str) -> Tuple[Optional[int], Optional[str]]:
    """(explicit quantity, parent order id) from a number/string or the leg's quantity object."""
    if value is None:
        return None, None
    if isinstance(value, Mapping) and len(value) == 1:
        (kind, body), = value.items()
        body = mapping(body, where, "a trigger quantity")
        if kind == "Quantity":
            return req_int(body, "quantity", where), None
        if kind == "ParentOrder":
            return None, hex_id(require(body, "parent_order_id", where), "parent_order_id", where)
        return None, None
    return chain_int(value, "quantity", where), None


@dataclass(frozen=True)
class TriggerOrder:
    """One trigger order: it rests off the book until the market reaches ``trigger_price``,
    then becomes the order ``order_type`` names (``"Market"``, ``{"Spot": {"price"}}``,
    ``{"MarketBounded": {…}}``). ``quantity`` is ``None`` when it inherits its parent's;
    ``status`` is the server's text (``Active``, ``Activated``, ``CanceledBySibling``, …)."""

    order_id: str
    side: str
    order_type: Any
    trigger_price: int
    quantity: Optional[int] = None
    status: Optional[str] = None
    timestamp: Optional[int] = None
    parent_order_id: Optional[str] = None
    sibling_order: Optional[str] = None
    market_id: Optional[str] = None
    raw: Raw = raw_field()
    market: Optional[Market] = field(default=None, repr=False, compare=False)

    @property
    def is_active(self) -> bool:
        """True while it waits for its price (no status, or ``Active``)."""
        return self.status in (None, "Active")

    @property
    def trigger_price_human(self) -> Decimal:
        """The trigger price in quote units."""
        if self.market is None:
            raise O2Error("this trigger does not know its market: use market.format_price(trigger.trigger_price)")
        return self.market.format_price(self.trigger_price)

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/orders/active", market_id: Optional[str] = None,
                  market: Optional[Market] = None) -> "TriggerOrder":
        """Parse one trigger entry (unknown fields stay on ``.raw``)."""
        obj = mapping(obj, where, "a trigger order")
        quantity, parent = _quantity(obj.get("quantity"), where)
        sibling = obj.get("sibling_order")
        if isinstance(sibling, Mapping):
            sibling = sibling.get("order_id")
        order_type = obj.get("order_type")
        if order_type is not None and not isinstance(order_type, (str, Mapping)):
            raise O2Error(f"{where}: field 'order_type' is not an order type: {str(order_type)[:40]!r}")
        status = obj.get("status")
        return cls(order_id=hex_id(require(obj, "order_id", where), "order_id", where),
                   side=side_of(require(obj, "side", where), where), order_type=order_type,
                   trigger_price=req_int(obj, "trigger_price", where), quantity=quantity,
                   status=str(status)[:60] if status is not None else None, timestamp=opt_int(obj, "timestamp", where),
                   parent_order_id=opt_id(obj, "parent_order_id", where) or parent,
                   sibling_order=hex_id(sibling, "sibling_order", where) if sibling else None,
                   market_id=opt_id(obj, "market_id", where) or market_id, raw=obj, market=market)


def _nested(entry: Mapping[str, Any], where: str, market_id: Optional[str],
            market: Optional[Market]) -> Tuple[TriggerOrder, ...]:
    """An order's triggers under either official name — both read when both come (one may be an
    empty leftover), each trigger once."""
    found: Dict[str, TriggerOrder] = {}
    for key in _NESTED:
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise O2Error(f"{where}: an order's {key} is not a list", body=str(value)[:200])
        for item in value[:_MAX_ENTRIES]:
            trigger = TriggerOrder.from_json(item, where, market_id, market)
            found.setdefault(trigger.order_id, trigger)
    return tuple(found.values())


@dataclass(frozen=True)
class ActiveOrder:
    """A resting order and the triggers hanging off it (take-profit / stop-loss)."""

    order: Order
    triggers: Tuple[TriggerOrder, ...] = ()


@dataclass(frozen=True)
class ActiveCursor:
    """Where the next page starts, as the server names it (``next_timestamp``, ``next_id``, ``next_kind``)."""

    next_timestamp: Optional[int]
    next_id: Optional[str]
    next_kind: Optional[str]


@dataclass(frozen=True)
class ActiveOrders:
    """``GET /v1/orders/active``: resting ``orders`` (each with its triggers), ``standalone``
    triggers, the ``cursor`` if there is more, and entries of unknown kinds in ``other``."""

    identity: Optional[str]
    market_id: Optional[str]
    orders: Tuple[ActiveOrder, ...]
    standalone: Tuple[TriggerOrder, ...]
    cursor: Optional[ActiveCursor] = None
    other: Tuple[Raw, ...] = ()
    raw: Raw = raw_field()

    @property
    def triggers(self) -> Tuple[TriggerOrder, ...]:
        """Every trigger of the page: the nested ones, then the standalone ones."""
        return tuple(t for o in self.orders for t in o.triggers) + self.standalone

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/orders/active",
                  market: Optional[Market] = None) -> "ActiveOrders":
        """Parse either official shape (see the module doc)."""
        obj = mapping(obj, where)
        market_id = opt_id(obj, "market_id", where) or (market.market_id if market else None)
        entries = obj.get("entries") or []
        if not isinstance(entries, list):
            raise O2Error(f"{where}: entries is not a list", body=str(entries)[:200])
        markets = {market.market_id: market} if market else None
        orders, standalone, other = [], [], []
        for entry in entries[:_MAX_ENTRIES]:
            kind = entry.get("kind") if isinstance(entry, Mapping) else None
            if kind == "trigger":
                standalone.append(TriggerOrder.from_json(entry, where, market_id, market))
            elif kind == "order":
                orders.append(ActiveOrder(Order.from_json(entry, where, market_id, markets),
                                          _nested(entry, where, market_id, market)))
            else:
                other.append(entry if isinstance(entry, Mapping) else {"entry": entry})
        cursor = None
        if any(obj.get(k) is not None for k in ("next_timestamp", "next_id", "next_kind")):
            next_id = obj.get("next_id")
            cursor = ActiveCursor(opt_int(obj, "next_timestamp", where),
                                  str(next_id)[:80] if next_id is not None else None,
                                  str(obj["next_kind"])[:20] if obj.get("next_kind") is not None else None)
        return cls(identity_id(obj.get("identity"), where), market_id, tuple(orders), tuple(standalone), cursor,
                   tuple(other), raw=obj)

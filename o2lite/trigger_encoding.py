"""Trigger orders on the wire: the canonical JSON of a leg and the bytes it is signed as (PROTOCOL §14).

A trigger order rests off the book until the market reaches its ``trigger_price``, then becomes
the order its ``order_type`` names. One leg (``TriggerOrderArgs``), canonical JSON::

    {"order_type": "Market" | {"MarketBounded": {"max_price": "<u64>", "min_price": "<u64>"}}
                   | {"Spot": {"price": "<u64>"}},
     "quantity": {"Quantity": {"quantity": "<u64>"}} | {"ParentOrder": {"parent_order_id": "0x…"}},
     "trigger_price": "<u64>", "side": "Buy" | "Sell"}

Its bytes (``TOA``) follow the contract's field order, not the JSON's, and ``side`` is not
encoded at all (the contract reads it off the forwarded asset)::

    quantity     Quantity    u64(0) ‖ u64 quantity
                 ParentOrder u64(1) ‖ parent order id (32)
    order type   Market      u64(0)
                 MarketBounded u64(1) ‖ u64 max_price ‖ u64 min_price
                 Spot        u64(2) ‖ u64 price
    u64 trigger_price

The **lock** (escrow) a leg forwards: ``ParentOrder`` → 0 (the parent's funds cover it); Sell →
the base asset, ``quantity``; Buy → the quote asset, ``quantity × lock_price ÷ 10^base.decimals``
(floor), where lock_price is the Spot price, the MarketBounded max, or — for Market — the trigger
price. The exchange rebuilds the same figure, so a wrong one is a signature mismatch.

Facts proven by ``tests/vectors/triggers.json`` (made by running the official TypeScript encoder).

>>> leg = canonical_leg({"order_type": "market", "quantity": {"Quantity": {"quantity": 5000}},
...                      "trigger_price": "2500", "side": "sell"})
>>> join(toa_segments(leg)).hex()
'00000000000000000000000000001388000000000000000000000000000009c4'
>>> leg_lock(leg, 9)
5000
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from ._hex import b256, b256_hex
from .action_fields import canonical_order_type, canonical_side, chain_u64
from .encoding import Segment, join, u64
from .errors import ValidationError

__all__ = ["TRIGGER_ACTION_KINDS", "TRIGGER_OPTIONALS", "PARENT_ORDER_PLACEHOLDER", "canonical_leg", "canonical_parent",
           "canonical_trigger_action", "leg_lock", "leg_lock_price", "toa_segments", "option_u64_segments",
           "option_toa_segments", "leg_quantity", "leg_kind"]

TRIGGER_ACTION_KINDS = ("CreateTriggerOrder", "CreateTriggerOrders", "CreateOrderWithTriggers", "CancelTriggerOrder")
#: The parent id of a leg attached at placement: the order does not exist yet when the call is
#: signed, so the contract takes a zero id and substitutes the order it creates (PROTOCOL §14).
PARENT_ORDER_PLACEHOLDER = "0x" + "00" * 32
#: Each trigger action's optional fields: the only ones that may be absent, or ``null``.
TRIGGER_OPTIONALS = {"CreateTriggerOrder": ("parent",), "CreateTriggerOrders": ("parent",),
                     "CreateOrderWithTriggers": ("trigger_2",), "CancelTriggerOrder": ()}
_KINDS = {"market": "Market", "marketbounded": "MarketBounded", "spot": "Spot"}
_KIND_DISCRIMINANT = {"Market": 0, "MarketBounded": 1, "Spot": 2}  # the contract's own order
_QUANTITY_DISCRIMINANT = {"Quantity": 0, "ParentOrder": 1}


def _one_key(value: Any, what: str) -> Tuple[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValidationError(f"{what} must be a one-key object")
    (key, payload), = value.items()
    return str(key), payload


def _exactly(payload: Any, fields: Tuple[str, ...], what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping) or set(payload) != set(fields):
        raise ValidationError(f"{what} needs exactly {{{', '.join(fields)}}}")
    return payload


def _leg_order_type(value: Any) -> Any:
    if isinstance(value, str):
        name = _KINDS.get(value.strip().lower())
        if name == "Market":
            return name
        raise ValidationError(f"a trigger leg's order_type is Market, {{\"MarketBounded\": {{max_price, min_price}}}} "
                              f"or {{\"Spot\": {{price}}}}, got {value[:30]!r}")
    key, payload = _one_key(value, "a trigger leg's order_type")
    name = _KINDS.get(key.strip().lower())
    if name == "MarketBounded":
        bounds = _exactly(payload, ("max_price", "min_price"), "MarketBounded")
        high = chain_u64(bounds["max_price"], "MarketBounded max_price")
        low = chain_u64(bounds["min_price"], "MarketBounded min_price")
        if int(high) < int(low):
            raise ValidationError("MarketBounded max_price must be ≥ min_price")
        return {"MarketBounded": {"max_price": high, "min_price": low}}
    if name == "Spot":
        return {"Spot": {"price": chain_u64(_exactly(payload, ("price",), "Spot")["price"], "Spot price")}}
    if name == "Market" and payload in (None, {}, []):
        return "Market"
    raise ValidationError(f"unknown trigger order type {key[:30]!r}: expected Market, MarketBounded or Spot")


def _leg_quantity(value: Any) -> Dict[str, Any]:
    key, payload = _one_key(value, "a trigger leg's quantity")
    if key == "Quantity":
        return {"Quantity": {"quantity": chain_u64(_exactly(payload, ("quantity",), "Quantity")["quantity"],
                                                   "trigger quantity")}}
    if key == "ParentOrder":
        parent = _exactly(payload, ("parent_order_id",), "ParentOrder")["parent_order_id"]
        return {"ParentOrder": {"parent_order_id": b256_hex(parent, "parent_order_id")}}
    raise ValidationError(f"a trigger quantity is Quantity or ParentOrder, got {key[:30]!r}")


def canonical_leg(value: Any, what: str = "trigger leg") -> Dict[str, Any]:
    """One leg (``TriggerOrderArgs``) in its canonical JSON (see the module doc), or a
    :class:`ValidationError` naming the field. The side is capitalised (the wire refuses
    ``"sell"``)."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be an object {{order_type, quantity, trigger_price, side}}")
    fields = ("order_type", "quantity", "trigger_price", "side")
    if set(value) != set(fields):
        raise ValidationError(f"{what} needs exactly {', '.join(fields)}")
    return {"order_type": _leg_order_type(value["order_type"]), "quantity": _leg_quantity(value["quantity"]),
            "trigger_price": chain_u64(value["trigger_price"], f"{what} trigger_price"),
            "side": canonical_side(value["side"])}


def canonical_parent(value: Any) -> Dict[str, str]:
    """``{"order_id": "0x…", "expected_quantity": "<u64>"}``: binds a standalone trigger to a
    resting order; the expected quantity is the parent's *initial* quantity (the exchange checks it)."""
    parent = _exactly(value, ("order_id", "expected_quantity"), "parent")
    return {"order_id": b256_hex(parent["order_id"], "parent order_id"),
            "expected_quantity": chain_u64(parent["expected_quantity"], "parent expected_quantity")}


def canonical_trigger_action(kind: str, body: Mapping[str, Any]) -> Dict[str, Any]:
    """The canonical JSON of one trigger action ``{kind: body}``; absent optionals (``parent``,
    ``trigger_2``) are omitted — ``null`` for one of the action's own optionals is read as absent
    (an older SDK line sent it); any other field, ``null`` or not, is refused."""
    present = {k: v for k, v in body.items() if not (v is None and k in TRIGGER_OPTIONALS.get(kind, ()))}
    if kind == "CancelTriggerOrder":
        _fields(present, kind, ("order_id",), ())
        return {kind: {"order_id": b256_hex(present["order_id"], "order_id")}}
    if kind == "CreateTriggerOrder":
        _fields(present, kind, ("args",), ("parent",))
        out: Dict[str, Any] = {"args": canonical_leg(present["args"], "args")}
    elif kind == "CreateTriggerOrders":
        _fields(present, kind, ("first", "second"), ("parent",))
        out = {"first": canonical_leg(present["first"], "first"), "second": canonical_leg(present["second"], "second")}
    else:  # CreateOrderWithTriggers
        _fields(present, kind, ("side", "price", "quantity", "order_type", "trigger_1"), ("trigger_2",))
        order_type = canonical_order_type(present["order_type"])
        if isinstance(order_type, Mapping) and "Limit" in order_type:
            raise ValidationError("a Limit order cannot carry triggers (PROTOCOL §14): use Spot, Market, "
                                  "FillOrKill, PostOnly or BoundedMarket")
        out = {"side": canonical_side(present["side"]), "price": chain_u64(present["price"], "price"),
               "quantity": chain_u64(present["quantity"], "quantity"), "order_type": order_type,
               "trigger_1": canonical_leg(present["trigger_1"], "trigger_1")}
        if "trigger_2" in present:
            out["trigger_2"] = canonical_leg(present["trigger_2"], "trigger_2")
        return {kind: out}
    if "parent" in present:
        out["parent"] = canonical_parent(present["parent"])
    return {kind: out}


def _fields(body: Mapping[str, Any], kind: str, required: Tuple[str, ...], optional: Tuple[str, ...]) -> None:
    extra = [k for k in body if k not in required + optional]
    if extra:
        raise ValidationError(f"{kind} has unknown field(s) {', '.join(map(str, extra))[:60]}: "
                              f"expected {', '.join(required + optional)}")
    missing = [k for k in required if k not in body]
    if missing:
        raise ValidationError(f"{kind} is missing {', '.join(missing)}")


def leg_kind(leg: Mapping[str, Any]) -> str:
    """``Market``, ``MarketBounded`` or ``Spot``."""
    order_type = leg["order_type"]
    return order_type if isinstance(order_type, str) else next(iter(order_type))


def leg_quantity(leg: Mapping[str, Any]) -> Optional[int]:
    """The explicit quantity, or ``None`` for a ``ParentOrder`` leg (it inherits the parent's)."""
    quantity = leg["quantity"]
    return int(quantity["Quantity"]["quantity"]) if "Quantity" in quantity else None


def leg_lock_price(leg: Mapping[str, Any]) -> int:
    """The price a leg escrows against: Spot price, MarketBounded max, or (Market) the trigger price."""
    kind, order_type = leg_kind(leg), leg["order_type"]
    if kind == "Spot":
        return int(order_type["Spot"]["price"])
    if kind == "MarketBounded":
        return int(order_type["MarketBounded"]["max_price"])
    return int(leg["trigger_price"])


def leg_lock(leg: Mapping[str, Any], base_decimals: int) -> int:
    """What a canonical leg forwards (see the module doc); the asset is the quote for a Buy and
    the base for a Sell, even when the amount is 0."""
    quantity = leg_quantity(leg)
    if quantity is None:
        return 0
    if leg["side"] == "Buy":
        return int(quantity * leg_lock_price(leg) // 10**base_decimals)
    return quantity


def toa_segments(leg: Mapping[str, Any], prefix: str = "trigger") -> List[Segment]:
    """A canonical leg as named segments: quantity, order type, trigger price (see the module doc)."""
    (q_name, q_body), = leg["quantity"].items()
    out = [Segment(f"{prefix}.quantity u64 (discriminant)", u64(_QUANTITY_DISCRIMINANT[q_name]),
                   f"{_QUANTITY_DISCRIMINANT[q_name]} = {q_name}")]
    if q_name == "Quantity":
        out.append(Segment(f"{prefix}.quantity u64", u64(int(q_body["quantity"])), q_body["quantity"]))
    else:
        parent = q_body["parent_order_id"]
        out.append(Segment(f"{prefix}.parent_order_id", b256(parent, "parent_order_id"),
                           "placeholder: the order created in this call" if parent == PARENT_ORDER_PLACEHOLDER
                           else ""))
    kind = leg_kind(leg)
    out.append(Segment(f"{prefix}.order_type u64 (discriminant)", u64(_KIND_DISCRIMINANT[kind]),
                       f"{_KIND_DISCRIMINANT[kind]} = {kind}"))
    if kind == "MarketBounded":
        bounds = leg["order_type"]["MarketBounded"]
        out += [Segment(f"{prefix}.MarketBounded.max_price u64", u64(int(bounds["max_price"])), bounds["max_price"]),
                Segment(f"{prefix}.MarketBounded.min_price u64", u64(int(bounds["min_price"])), bounds["min_price"])]
    elif kind == "Spot":
        price = leg["order_type"]["Spot"]["price"]
        out.append(Segment(f"{prefix}.Spot.price u64", u64(int(price)), price))
    out.append(Segment(f"{prefix}.trigger_price u64", u64(int(leg["trigger_price"])),
                       f"{leg['trigger_price']} ({leg['side']} leg; the side is not encoded)"))
    return out


def option_u64_segments(value: Optional[str], name: str) -> List[Segment]:
    """``Option<u64>``: ``u64(0)`` for None, ``u64(1) ‖ u64 value`` for Some."""
    if value is None:
        return [Segment(f"{name} option u64", u64(0), "None")]
    return [Segment(f"{name} option u64", u64(1), "Some"), Segment(f"{name} u64", u64(int(value)), value)]


def option_toa_segments(leg: Optional[Mapping[str, Any]], name: str) -> List[Segment]:
    """``Option<TriggerOrderArgs>``: ``u64(0)`` or ``u64(1) ‖ TOA``."""
    if leg is None:
        return [Segment(f"{name} option u64", u64(0), "None")]
    return [Segment(f"{name} option u64", u64(1), "Some")] + toa_segments(leg, name)

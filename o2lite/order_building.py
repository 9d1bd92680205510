"""Building a ``CreateOrder`` action from human numbers: scale, check, adjust, canonical JSON.

Prices and quantities are human numbers (``str``/``Decimal``/``int``) scaled by the market's
decimals (PROTOCOL §11), or :class:`Chain` integers passed through unchanged. Everything is
checked before anything is signed: the u64 range, PricePrecision, FractionalPrice (the quantity
is adjusted down, with a warning) and ``min_order``. The result is canonical action JSON
(:func:`o2lite.actions.canonical_action`), so the body sent is the body signed.
"""

from __future__ import annotations

import warnings
from decimal import Decimal
from math import gcd
from typing import Any, Callable, Dict, Literal, Optional, Union

from ._hex import U64_MAX
from .actions import ORDER_TYPE_NAMES, canonical_action, canonical_side
from .errors import ValidationError
from .market import Asset, Market, scale_amount

__all__ = ["Chain", "Number", "Side", "OrderTypeName", "to_chain", "create_order_action", "check_order_options",
           "scale_amount"]

#: A side as callers write it (any of these is sent as ``Buy``/``Sell``).
Side = Literal["Buy", "Sell", "buy", "sell", "BUY", "SELL"]
#: The order types a client sends (PROTOCOL §5).
OrderTypeName = Literal["Spot", "Market", "FillOrKill", "PostOnly", "Limit", "BoundedMarket"]


class Chain(int):
    """Marks a number as an explicit chain integer (already scaled), e.g. ``Chain(12300)``.

    Must lie in ``[0, u64::MAX]``; anything else is refused where it is made.
    """

    def __new__(cls, value: Any) -> "Chain":
        if isinstance(value, (bool, float)) or not isinstance(value, (int, str, Decimal)):
            raise ValidationError(f"Chain() takes an integer, not {type(value).__name__}")
        try:
            number = int(value) if not isinstance(value, str) or len(value) <= 25 else -1
        except (ValueError, ArithmeticError):
            raise ValidationError(f"Chain() takes an integer, got {str(value)[:30]!r}") from None
        if isinstance(value, Decimal) and number != value:
            raise ValidationError(f"Chain() takes a whole number, got {value}")
        if not 0 <= number <= U64_MAX:
            raise ValidationError(f"a chain integer lies in [0, u64::MAX={U64_MAX}], got {str(value)[:30]}")
        return super().__new__(cls, number)


Number = Union[str, int, Decimal, Chain]


def to_chain(value: Any, scale: Callable[[Any], int]) -> int:
    """A :class:`Chain` as is, anything else through ``scale`` (human → chain, range-checked)."""
    if isinstance(value, Chain):
        return int(value)
    return scale(value)


def create_order_action(m: Market, side: Side, price: Number, quantity: Number,
                        order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *,
                        post_only: bool = False, max_price: Optional[Number] = None,
                        min_price: Optional[Number] = None, limit_timestamp: Optional[int] = None,
                        round: bool = False, clock: Callable[[], float]) -> Dict[str, Any]:
    """A canonical ``CreateOrder`` action for market ``m`` (see the module doc).

    ``order_type``: ``Spot``, ``Market``, ``FillOrKill``, ``PostOnly``, ``Limit`` (limit price =
    ``price``, timestamp = ``limit_timestamp`` or now) or ``BoundedMarket``
    (``max_price``/``min_price``); a JSON order type is also accepted and canonicalised. A price
    or quantity finer than the market allows is refused (naming its precision) unless
    ``round=True`` rounds it down. ``post_only=True`` makes a ``PostOnly`` order from the default
    ``Spot``; an option of another order type than ``order_type`` is refused
    (:func:`check_order_options`).
    """
    side_name = canonical_side(side)
    if not isinstance(post_only, bool) or not isinstance(round, bool):
        raise ValidationError("post_only and round must be True or False")

    def price_of(value: Number) -> int:
        return to_chain(value, lambda v: m.scale_price(v, round=round))

    if isinstance(order_type, str) and order_type.strip().lower() not in {n.lower() for n in ORDER_TYPE_NAMES}:
        raise ValidationError(f"order_type must be one of {', '.join(ORDER_TYPE_NAMES)}, got {order_type[:30]!r}")
    check_order_options(order_type, post_only=post_only, max_price=max_price, min_price=min_price,
                        limit_timestamp=limit_timestamp)
    chain_price = price_of(price)
    chain_quantity = to_chain(quantity, lambda v: m.scale_quantity(v, round=round))
    adjusted = m.adjust_quantity(chain_price, chain_quantity) if chain_price > 0 else chain_quantity
    if adjusted == 0 < chain_quantity:
        quantum = 10**m.base.decimals // gcd(chain_price, 10**m.base.decimals)  # see Market.adjust_quantity
        raise ValidationError(f"{m.pair}: quantity {m.format_quantity(chain_quantity):f} {m.base.symbol} is too small "
                              f"at this price: price × quantity must be a whole amount of {m.quote.symbol}, so the "
                              f"quantity must be a multiple of {m.format_quantity(quantum):f}")
    if adjusted != chain_quantity:
        warnings.warn(f"{m.pair}: quantity adjusted from {m.format_quantity(chain_quantity):f} to "
                      f"{m.format_quantity(adjusted):f} so price × quantity is a whole quote amount "
                      "(FractionalPrice rule)", stacklevel=3)
    m.validate_order(chain_price, adjusted)
    kind = order_type.strip().lower() if isinstance(order_type, str) else None
    if post_only:
        order_type = "PostOnly"
    elif kind == "limit":
        stamp = int(clock()) if limit_timestamp is None else limit_timestamp
        order_type = {"Limit": [chain_price, stamp]}
    elif kind == "boundedmarket":
        if max_price is None or min_price is None:
            raise ValidationError("BoundedMarket needs max_price and min_price")
        high, low = price_of(max_price), price_of(min_price)
        if high < low:
            raise ValidationError("BoundedMarket max_price must be ≥ min_price")
        order_type = {"BoundedMarket": {"max_price": high, "min_price": low}}
    return canonical_action({"CreateOrder": {"side": side_name, "price": chain_price, "quantity": adjusted,
                                             "order_type": order_type}})


def check_order_options(order_type: Union[str, Dict[str, Any]], *, post_only: bool, max_price: Any,
                        min_price: Any, limit_timestamp: Any) -> None:
    """Refuse options that belong to another order type than the one asked for.

    Each option picks or shapes one order type: ``post_only=True`` means ``PostOnly`` (allowed
    with the default ``Spot``, or with ``PostOnly`` itself), ``max_price``/``min_price`` shape a
    ``BoundedMarket``, ``limit_timestamp`` a ``Limit`` given by name. Combined with another type
    they would be dropped or would silently change the order — ``post_only=True`` once turned a
    ``Market`` order into a resting ``PostOnly`` one — so they raise :class:`ValidationError`
    before anything is signed. A JSON order type carries all its own fields: it takes none.
    """
    name = order_type.strip().lower() if isinstance(order_type, str) else None
    shown = order_type.strip() if isinstance(order_type, str) else "a JSON order type"
    if post_only and name not in ("spot", "postonly"):
        raise ValidationError(f"post_only=True makes a PostOnly order: it cannot be combined with {shown}")
    if (max_price is not None or min_price is not None) and name != "boundedmarket":
        raise ValidationError(f"max_price/min_price belong to a BoundedMarket order, not to {shown}")
    if limit_timestamp is not None and name != "limit":
        raise ValidationError(f"limit_timestamp belongs to a Limit order, not to {shown}")


"""Reading one field of an action the way the exchange does: chain integers, sides, order types.

These are the building blocks of :func:`o2lite.actions.canonical_action` and of the trigger-order
legs in :mod:`o2lite.trigger_encoding`: each turns what a caller wrote into the exact JSON the
official SDKs send, or raises :class:`ValidationError` naming the field, before anything is signed.

>>> chain_u64(12300, "price"), canonical_side("sell")
('12300', 'Sell')
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable, Tuple

from ._hex import U64_MAX, b256
from .errors import ValidationError

__all__ = ["ORDER_TYPE_NAMES", "chain_u64", "canonical_side", "canonical_order_type", "market_fields",
           "amount_words"]

#: Order types a client sends (PROTOCOL §5); responses may carry others (PROTOCOL §13).
ORDER_TYPE_NAMES = ("Spot", "Market", "FillOrKill", "PostOnly", "Limit", "BoundedMarket")
_ORDER_TYPE_BY_LOWER = {name.lower(): name for name in ORDER_TYPE_NAMES}
_DIGITS = re.compile(r"[0-9]{1,20}")  # u64::MAX has 20 digits


def chain_u64(value: Any, what: str) -> str:
    """A u64 chain integer as its canonical base-10 string (no sign, no exponent, no leading zeros).

    Accepts ``int``, a base-10 ``str`` or an integral ``Decimal``; refuses ``float``, ``bool``,
    negatives and values above u64::MAX — before any arithmetic on a possibly huge input.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{what} must be an integer (str, int or Decimal), not {type(value).__name__}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise ValidationError(f"{what} must be a base-10 integer string of at most 20 digits, "
                                  f"got {text[:40]!r}")
        number = int(text)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValidationError(f"{what} must be a whole number, got {value}")
        if value.adjusted() > 20:
            raise ValidationError(f"{what} is above u64::MAX")
        number = int(value)
    else:
        raise ValidationError(f"{what} must be an integer (str, int or Decimal), not {type(value).__name__}")
    if not 0 <= number <= U64_MAX:
        raise ValidationError(f"{what} must be between 0 and u64::MAX ({U64_MAX}), got {number}")
    return str(number)


def canonical_side(value: Any) -> str:
    """``"Buy"`` or ``"Sell"`` from any case; anything else is a :class:`ValidationError`."""
    if isinstance(value, str) and value.strip().lower() in ("buy", "sell"):
        return value.strip().capitalize()
    raise ValidationError(f"side must be Buy or Sell, got {str(value)[:20]!r}")


def canonical_order_type(value: Any) -> Any:
    """The canonical JSON of an order type (name in its exact spelling, payload as strings)."""
    if isinstance(value, str):
        name = _ORDER_TYPE_BY_LOWER.get(value.strip().lower())
        if name in ("Limit", "BoundedMarket"):
            raise ValidationError(f"order type {name} needs its arguments: "
                                  + ('{"Limit": [price, timestamp]}' if name == "Limit"
                                     else '{"BoundedMarket": {"max_price": …, "min_price": …}}'))
        if name is None:
            raise ValidationError(f"unknown order type {value[:30]!r}: expected one of {', '.join(ORDER_TYPE_NAMES)}")
        return name
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValidationError("order type must be a name or a one-key object such as {\"Limit\": [price, timestamp]}")
    (key, payload), = value.items()
    name = _ORDER_TYPE_BY_LOWER.get(str(key).strip().lower())
    if name == "Limit":
        if not isinstance(payload, (list, tuple)) or len(payload) != 2:
            raise ValidationError("Limit order type needs [price, timestamp]")
        return {"Limit": [chain_u64(payload[0], "Limit price"), chain_u64(payload[1], "Limit timestamp")]}
    if name == "BoundedMarket":
        if not isinstance(payload, Mapping) or set(payload) != {"max_price", "min_price"}:
            raise ValidationError("BoundedMarket order type needs exactly {max_price, min_price}")
        high = chain_u64(payload["max_price"], "BoundedMarket max_price")
        low = chain_u64(payload["min_price"], "BoundedMarket min_price")
        if int(high) < int(low):
            raise ValidationError("BoundedMarket max_price must be ≥ min_price")
        return {"BoundedMarket": {"max_price": high, "min_price": low}}
    if name is not None and payload in (None, [], {}):
        return name
    raise ValidationError(f"unknown order type {str(key)[:30]!r}: expected one of {', '.join(ORDER_TYPE_NAMES)}")


def market_fields(market: Any) -> Tuple[bytes, bytes, bytes, int]:
    """contract id, base asset, quote asset, base decimals from a markets entry or Market."""
    try:
        if isinstance(market, Mapping):
            base, quote = market["base"], market["quote"]
            decimals = base["decimals"]
            return (b256(market["contract_id"], "market contract_id"), b256(base["asset"], "base asset"),
                    b256(quote["asset"], "quote asset"), int(chain_u64(decimals, "base decimals")))
        return (b256(market.contract_id, "market contract_id"), b256(market.base.asset, "base asset"),
                b256(market.quote.asset, "quote asset"), int(market.base.decimals))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"market is missing a field: {exc}") from None


def amount_words(market: Any) -> Tuple[Callable[[int], str], Callable[[int], str]]:
    """How to say a quote amount and a base amount of this market (chain integers when unknown)."""
    if hasattr(market, "price_text") and hasattr(market, "quantity_text"):
        return market.price_text, market.quantity_text
    return str, str

"""Session actions: their one canonical JSON form, and the contract call each becomes.

The exchange rebuilds the signing bytes from the JSON it *receives*, so o2lite never signs one
thing and sends another. :func:`canonical_action` turns whatever a caller wrote (``"buy"``, an
``int`` price, an upper-case order id without ``0x``, ``RegisterReferer`` spelled with
``referer``) into the exact JSON the official SDKs send — or raises :class:`ValidationError`
before anything is signed. :func:`action_to_call` then encodes **that** JSON. A request body is
always built from the canonical form, so what is signed is what is sent.

Canonical JSON (PROTOCOL §5):

- ``{"CreateOrder": {"side": "Buy"|"Sell", "price": "<u64>", "quantity": "<u64>",
  "order_type": "Spot"|"Market"|"FillOrKill"|"PostOnly"|{"Limit": ["<u64 price>",
  "<u64 timestamp>"]}|{"BoundedMarket": {"max_price": "<u64>", "min_price": "<u64>"}}}}``
- ``{"CancelOrder": {"order_id": "0x<64 lower-case hex>"}}``
- ``{"SettleBalance": {"to": {"Address"|"ContractId": "0x<64 hex>"}}}``
- ``{"RegisterReferer": {"to": Identity}}`` (all three official SDKs send ``to``)

>>> canonical_action({"CreateOrder": {"side": "buy", "price": 12300, "quantity": "5",
...                                   "order_type": "spot"}})
{'CreateOrder': {'side': 'Buy', 'price': '12300', 'quantity': '5', 'order_type': 'Spot'}}
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable, Dict, Tuple

from ._hex import U64_MAX, BytesLike, b256, b256_hex
from .encoding import (GAS_MAX, SELECTORS, ZERO_B256, Call, Segment, identity, identity_json, join,
                       order_args_segments)
from .errors import ValidationError

__all__ = ["ACTION_KINDS", "ORDER_TYPE_NAMES", "canonical_action", "canonical_order_type", "canonical_side",
           "chain_u64", "action_to_call", "canonical_action_to_call"]

ACTION_KINDS = ("CreateOrder", "CancelOrder", "SettleBalance", "RegisterReferer")
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


def _body(action: Any) -> Tuple[str, Mapping[str, Any]]:
    if not isinstance(action, Mapping) or len(action) != 1:
        raise ValidationError("an action is a one-key object such as {\"CreateOrder\": {...}}")
    (kind, body), = action.items()
    if kind not in ACTION_KINDS:
        raise ValidationError(f"unknown action {str(kind)[:30]!r}: expected one of {', '.join(ACTION_KINDS)}")
    if not isinstance(body, Mapping):
        raise ValidationError(f"{kind} needs an object body")
    return kind, body


def _only(body: Mapping[str, Any], kind: str, allowed: Tuple[str, ...]) -> None:
    extra = [k for k in body if k not in allowed]
    if extra:
        raise ValidationError(f"{kind} has unknown field(s) {', '.join(map(str, extra))[:60]}: "
                              f"expected {', '.join(allowed)}")
    missing = [k for k in allowed if body.get(k) is None]
    if missing:
        raise ValidationError(f"{kind} is missing {', '.join(missing)}")


def canonical_action(action: Any) -> Dict[str, Any]:
    """The exact JSON the exchange expects for one action (see the module doc), or a
    :class:`ValidationError` naming the bad field. Idempotent: canonical input comes back equal."""
    kind, body = _body(action)
    if kind == "CreateOrder":
        _only(body, kind, ("side", "price", "quantity", "order_type"))
        return {kind: {"side": canonical_side(body["side"]), "price": chain_u64(body["price"], "price"),
                       "quantity": chain_u64(body["quantity"], "quantity"),
                       "order_type": canonical_order_type(body["order_type"])}}
    if kind == "CancelOrder":
        _only(body, kind, ("order_id",))
        return {kind: {"order_id": b256_hex(body["order_id"], "order_id")}}
    if kind == "SettleBalance":
        _only(body, kind, ("to",))
        return {kind: {"to": identity_json(body["to"])}}
    # RegisterReferer: `to` is what the official SDKs send; one docs page says `referer`
    # (the official vectors carry both, equal). Accept either, send `to` only.
    if not body or set(body) - {"to", "referer"}:
        raise ValidationError("RegisterReferer needs to (preferred) or referer, and nothing else")
    identities = {str(identity_json(v)) for v in body.values()}
    if len(identities) != 1:
        raise ValidationError("RegisterReferer carries both to and referer, and they differ")
    return {kind: {"to": identity_json(body.get("to", body.get("referer")))}}


def _market_fields(market: Any) -> Tuple[bytes, bytes, bytes, int]:
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


def action_to_call(action: Mapping[str, Any], market: Any, accounts_registry_id: BytesLike) -> Call:
    """The contract call one action becomes (PROTOCOL §8); gas is always u64::MAX.

    The action is canonicalised first (:func:`canonical_action`), so the call is built from
    exactly the values a body built from the same canonical JSON carries.

    - ``CreateOrder`` → market contract, ``create_order``, call data = OrderArgs. Buy forwards
      the quote asset, ``price * quantity // 10**base.decimals`` (must fit a u64); Sell
      forwards the base asset, ``quantity``.
    - ``CancelOrder`` → market contract, ``cancel_order``, nothing forwarded, data = order id.
    - ``SettleBalance`` → market contract, ``settle_balance``, nothing forwarded, data = Identity.
    - ``RegisterReferer`` → ``accounts_registry_id``, ``register_referer``, data = Identity.

    ``market`` is one ``/v1/markets`` entry (dict) or an :class:`o2lite.Market`.
    """
    return canonical_action_to_call(canonical_action(action), market, accounts_registry_id)


def canonical_action_to_call(action: Mapping[str, Any], market: Any, accounts_registry_id: BytesLike) -> Call:
    """:func:`action_to_call` for an action that is already the output of :func:`canonical_action`.

    For the callers that have just canonicalised the very JSON they send (or, in the sandbox,
    checked that it was sent canonical): canonicalising again is pure repeat work on every
    order. Given a non-canonical action, its fields are not checked — use :func:`action_to_call`.
    """
    (kind, body), = action.items()
    if kind == "RegisterReferer":
        to = body["to"]
        return Call(b256(accounts_registry_id, "accounts_registry_id"), SELECTORS["register_referer"],
                    0, ZERO_B256, GAS_MAX, identity(to), data_parts=_identity_parts_of(to, "referer"),
                    title="accounts registry (RegisterReferer)")
    contract_id, base_asset, quote_asset, base_decimals = _market_fields(market)
    label = getattr(market, "pair", None) or "market"
    if kind == "CreateOrder":
        price, quantity = int(body["price"]), int(body["quantity"])
        words = _words(market)
        parts = order_args_segments(price, quantity, body["order_type"], price_text=words[0](price),
                                    quantity_text=words[1](quantity))
        data = join(parts)
        title = f"{label} order book (CreateOrder {body['side']})"
        if body["side"] == "Buy":
            amount = price * quantity // 10**base_decimals
            if amount > U64_MAX:
                raise ValidationError("Buy amount price × quantity / 10^base.decimals exceeds u64::MAX")
            return Call(contract_id, SELECTORS["create_order"], amount, quote_asset, GAS_MAX, data, tuple(parts),
                        f"{words[0](amount)}: price × quantity forwarded", title)
        return Call(contract_id, SELECTORS["create_order"], quantity, base_asset, GAS_MAX, data, tuple(parts),
                    f"{words[1](quantity)}: the quantity forwarded", title)
    if kind == "CancelOrder":
        order_id = b256(body["order_id"], "order_id")
        return Call(contract_id, SELECTORS["cancel_order"], 0, ZERO_B256, GAS_MAX, order_id,
                    (Segment("order_id", order_id, ""),), title=f"{label} order book (CancelOrder)")
    to = body["to"]
    return Call(contract_id, SELECTORS["settle_balance"], 0, ZERO_B256, GAS_MAX, identity(to),
                _identity_parts_of(to, "to"), title=f"{label} order book (SettleBalance)")


def _identity_parts_of(value: Mapping[str, Any], name: str) -> Tuple[Segment, ...]:
    (kind, address), = value.items()
    return (Segment(f"{name} identity u64", identity(value)[:8], "1 = ContractId" if kind == "ContractId"
                    else "0 = Address"), Segment(f"{name} address", b256(address, name), ""))


def _words(market: Any) -> Tuple[Callable[[int], str], Callable[[int], str]]:
    """How to say a quote amount and a base amount of this market (chain integers when unknown)."""
    if hasattr(market, "price_text") and hasattr(market, "quantity_text"):
        return market.price_text, market.quantity_text
    return str, str

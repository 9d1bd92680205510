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
- the trigger actions ``CreateTriggerOrder``, ``CreateTriggerOrders`` (OCO),
  ``CreateOrderWithTriggers`` and ``CancelTriggerOrder`` (PROTOCOL §14; their legs are read by
  :mod:`o2lite.trigger_encoding`)

>>> canonical_action({"CreateOrder": {"side": "buy", "price": 12300, "quantity": "5",
...                                   "order_type": "spot"}})
{'CreateOrder': {'side': 'Buy', 'price': '12300', 'quantity': '5', 'order_type': 'Spot'}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Tuple

from ._hex import U64_MAX, BytesLike, b256, b256_hex
from .action_fields import (ORDER_TYPE_NAMES, amount_words, canonical_order_type, canonical_side, chain_u64,
                            market_fields)
from .encoding import (GAS_MAX, SELECTORS, ZERO_B256, Call, Segment, function_selector, identity, identity_json,
                       join, order_args_segments)
from .errors import ValidationError
from .trigger_encoding import (TRIGGER_ACTION_KINDS, TRIGGER_OPTIONALS, canonical_trigger_action, leg_lock, option_toa_segments,
                               option_u64_segments, toa_segments)

__all__ = ["ACTION_KINDS", "ORDER_TYPE_NAMES", "canonical_action", "canonical_order_type", "canonical_side",
           "chain_u64", "action_to_call", "canonical_action_to_call", "sent_as_canonical"]

ACTION_KINDS = ("CreateOrder", "CancelOrder", "SettleBalance", "RegisterReferer") + TRIGGER_ACTION_KINDS
#: The contract function each trigger action calls (PROTOCOL §14).
TRIGGER_FUNCTIONS = {"CreateTriggerOrder": "create_trigger_order", "CreateTriggerOrders": "create_trigger_orders",
                     "CreateOrderWithTriggers": "create_order_with_triggers"}
_TRIGGER_SELECTORS = {kind: function_selector(name) for kind, name in TRIGGER_FUNCTIONS.items()}
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
    if kind in TRIGGER_ACTION_KINDS:
        return canonical_trigger_action(kind, body)
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


def sent_as_canonical(sent: Any, canonical: Mapping[str, Any]) -> bool:
    """Whether an action as sent is its canonical form: equal, or a trigger action that differs
    only by ``null`` for one of its own optionals (``parent``, ``trigger_2``), which an older
    official SDK line sends — the signed bytes are the same (PROTOCOL §14)."""
    if sent == canonical:
        return True
    (kind, body), = canonical.items()
    if kind not in TRIGGER_ACTION_KINDS or not isinstance(sent, Mapping) or not isinstance(sent.get(kind), Mapping):
        return False
    optional = TRIGGER_OPTIONALS[kind]
    present: Dict[str, Any] = {k: v for k, v in sent[kind].items() if not (v is None and k in optional)}
    return present == dict(body)


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
    - ``CreateTriggerOrder`` → ``create_trigger_order``, forwards the leg's lock, data =
      ``TOA(args) ‖ Option<u64>(parent.expected_quantity)``; ``CreateTriggerOrders`` (OCO) →
      ``create_trigger_orders``, forwards ``first``'s lock only, data = ``TOA(first) ‖
      TOA(second) ‖ Option<u64>``; ``CreateOrderWithTriggers`` → ``create_order_with_triggers``,
      forwards as a plain CreateOrder, data = ``OrderArgs ‖ TOA(trigger_1) ‖ Option<TOA>(trigger_2)``;
      ``CancelTriggerOrder`` → ``cancel_order`` exactly as ``CancelOrder`` (PROTOCOL §14,
      :mod:`o2lite.trigger_encoding`).

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
    contract_id, base_asset, quote_asset, base_decimals = market_fields(market)
    label = getattr(market, "pair", None) or "market"
    words = amount_words(market)
    if kind in ("CreateOrder", "CreateOrderWithTriggers"):
        price, quantity = int(body["price"]), int(body["quantity"])
        parts = order_args_segments(price, quantity, body["order_type"], price_text=words[0](price),
                                    quantity_text=words[1](quantity))
        if body["side"] == "Buy":
            amount = price * quantity // 10**base_decimals
            if amount > U64_MAX:
                raise ValidationError("Buy amount price × quantity / 10^base.decimals exceeds u64::MAX")
            asset, amount_text = quote_asset, f"{words[0](amount)}: price × quantity forwarded"
        else:
            amount, asset, amount_text = quantity, base_asset, f"{words[1](quantity)}: the quantity forwarded"
        selector = SELECTORS["create_order"]
        if kind == "CreateOrderWithTriggers":
            parts += toa_segments(body["trigger_1"], "trigger_1") + option_toa_segments(body.get("trigger_2"),
                                                                                       "trigger_2")
            selector = _TRIGGER_SELECTORS[kind]
        return Call(contract_id, selector, amount, asset, GAS_MAX, join(parts), tuple(parts), amount_text,
                    f"{label} order book ({kind} {body['side']})")
    if kind in ("CancelOrder", "CancelTriggerOrder"):  # a trigger is cancelled by the same cancel_order
        order_id = b256(body["order_id"], "order_id")
        return Call(contract_id, SELECTORS["cancel_order"], 0, ZERO_B256, GAS_MAX, order_id,
                    (Segment("order_id", order_id, ""),), title=f"{label} order book ({kind})")
    if kind in ("CreateTriggerOrder", "CreateTriggerOrders"):
        first = body["args"] if kind == "CreateTriggerOrder" else body["first"]
        parts = toa_segments(first, "args" if kind == "CreateTriggerOrder" else "first")
        if kind == "CreateTriggerOrders":
            parts += toa_segments(body["second"], "second")
        parent = body.get("parent")
        parts += option_u64_segments(None if parent is None else parent["expected_quantity"],
                                     "parent.expected_quantity")
        # the chain escrows only the first leg's lock, for both legs of an OCO pair
        amount = leg_lock(first, base_decimals)
        if amount > U64_MAX:
            raise ValidationError("the trigger's lock exceeds u64::MAX")
        buy = first["side"] == "Buy"
        text = (words[0] if buy else words[1])(amount) + (" locked (escrow of the first leg)" if amount
                                                           else ": nothing locked (the parent's funds cover it)")
        return Call(contract_id, _TRIGGER_SELECTORS[kind], amount, quote_asset if buy else base_asset, GAS_MAX,
                    join(parts), tuple(parts), text, f"{label} order book ({kind} {first['side']})")
    to = body["to"]
    return Call(contract_id, SELECTORS["settle_balance"], 0, ZERO_B256, GAS_MAX, identity(to),
                _identity_parts_of(to, "to"), title=f"{label} order book (SettleBalance)")


def _identity_parts_of(value: Mapping[str, Any], name: str) -> Tuple[Segment, ...]:
    (kind, address), = value.items()
    return (Segment(f"{name} identity u64", identity(value)[:8], "1 = ContractId" if kind == "ContractId"
                    else "0 = Address"), Segment(f"{name} address", b256(address, name), ""))

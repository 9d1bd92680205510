"""Take-profit, stop-loss and OCO in human units: building the trigger actions (no I/O).

A trigger order rests off the book until the market reaches its trigger price, then becomes an
order (PROTOCOL §14): a ``Market`` order (the default), a limit (``Spot``) order at
``limit_price``, or a market order bounded ``slippage_bps`` either side of the trigger
(``MarketBounded``). Three ways to make one:

- attached to a new order (:func:`order_with_triggers`): the legs take the **closing** side and
  inherit the order's quantity (``ParentOrder`` with the zero placeholder id; the contract
  substitutes the new order's id). A ``Limit`` order cannot carry triggers;
- standalone (:func:`standalone_trigger`): an entry stop with its own quantity, or protection of
  a resting order (``parent=``), bound to it by its id and initial quantity;
- an OCO pair (:func:`oco_pair`): two legs, one firing cancels the other; their trigger prices
  must differ and the leg that locks more goes first (the chain escrows only ``first``'s lock).

The rules the official TypeScript SDK applies before signing are applied here, and **every
change is reported** (a warning when sent, ``TriggerPlan.adjustments`` when built): trigger and
limit prices are floored to the market's tick; ``slippage_bps`` becomes ``MarketBounded`` with
band = trigger × bps ÷ 10000, max = floor(trigger + band), min = ceil(trigger − band) (inward,
to the tick); a quantity is fitted down (FractionalPrice) against every price it is judged at —
the order price and each leg's lock and trigger price.

A :class:`TriggerPlan` is what will be signed; :mod:`o2lite.trigger_trading` sends plans for a
:class:`~o2lite.Trader`. Proven against the official TypeScript encoder's output
(``tests/vectors/triggers.json``, whose official-client cases these builders reproduce from the
same human input); not yet checked against a live exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd, lcm
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .actions import canonical_action, canonical_side
from .errors import ValidationError
from .market import Market, to_decimal
from .models import Order
from .order_building import Chain, Number, check_order_options
from .trigger_encoding import PARENT_ORDER_PLACEHOLDER, leg_lock, leg_lock_price

__all__ = ["TriggerSpec", "TriggerPlan", "Protection", "attached_order_type", "order_with_triggers", "standalone_trigger", "oco_pair"]

MAX_SLIPPAGE_BPS = 9_999  # a band of 100 % puts the lower bound at 0: a zero price, no bound at all
_ORDER_TYPES = ("Spot", "Market", "FillOrKill", "PostOnly", "BoundedMarket")  # Limit cannot carry triggers


@dataclass(frozen=True)
class TriggerSpec:
    """One take-profit or stop-loss, in human units (or :class:`~o2lite.Chain`): it fires at
    ``trigger_price`` and executes as a Market order, or a limit order at ``limit_price``, or a
    market order bounded ``slippage_bps`` either side of the trigger (give at most one)."""

    trigger_price: Number
    limit_price: Optional[Number] = None
    slippage_bps: Optional[int] = None


Protection = Union[TriggerSpec, Number]


@dataclass(frozen=True)
class TriggerPlan:
    """A canonical trigger action for ``market`` (exactly what will be signed and sent) and the
    ``adjustments`` made to what was asked (prices floored to the tick, quantities fitted, OCO
    legs reordered), each in words."""

    market: Market
    action: Dict[str, Any]
    adjustments: Tuple[str, ...] = ()


class _Notes:
    """The adjustments made while building one plan, in words."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.items: List[str] = []

    def add(self, text: str) -> None:
        self.items.append(f"{self.market.pair}: {text}")


def _spec(value: Any, slippage_bps: Optional[int], what: str) -> TriggerSpec:
    if isinstance(value, TriggerSpec):
        return value if value.slippage_bps is not None or value.limit_price is not None or slippage_bps is None \
            else TriggerSpec(value.trigger_price, slippage_bps=slippage_bps)
    if value is None:
        raise ValidationError(f"{what} needs a trigger price")
    return TriggerSpec(value, slippage_bps=slippage_bps)


def _floor_price(m: Market, value: Number, what: str, notes: _Notes) -> int:
    """A price floored to the tick (PROTOCOL §14), the change reported; zero is refused."""
    if isinstance(value, Chain):
        price = int(value) - int(value) % m.price_step
        asked = m.format_price(int(value))
    else:
        price, asked = m.scale_price(value, round=True), to_decimal(value, what)
    if price <= 0:
        raise ValidationError(f"{what} must be at least one price step ({m.format_price(m.price_step)} "
                              f"{m.quote.symbol})")
    if m.format_price(price) != asked:
        notes.add(f"{what} {asked} floored to the tick: {m.format_price(price)} {m.quote.symbol}")
    return price


def _ceil_tick(m: Market, price: int) -> int:
    return -(-price // m.price_step) * m.price_step


def _leg_kind(m: Market, spec: TriggerSpec, trigger: int, what: str, notes: _Notes) -> Any:
    if spec.limit_price is not None and spec.slippage_bps is not None:
        raise ValidationError(f"{what}: give limit_price or slippage_bps, not both")
    if spec.limit_price is not None:
        return {"Spot": {"price": _floor_price(m, spec.limit_price, f"{what} limit price", notes)}}
    if spec.slippage_bps is not None:
        bps = spec.slippage_bps
        if isinstance(bps, bool) or not isinstance(bps, int) or not 0 < bps <= MAX_SLIPPAGE_BPS:
            raise ValidationError(f"{what}: slippage_bps must be a whole number of basis points in 1–{MAX_SLIPPAGE_BPS}")
        band = trigger * bps // 10_000
        high = (trigger + band) - (trigger + band) % m.price_step  # rounded inward: never wider than asked
        low = _ceil_tick(m, trigger - band)
        return {"MarketBounded": {"max_price": high, "min_price": low}}
    return "Market"


def _leg(m: Market, spec: TriggerSpec, side: str, quantity: Any, what: str, notes: _Notes) -> Dict[str, Any]:
    trigger = _floor_price(m, spec.trigger_price, f"{what} trigger price", notes)
    return {"order_type": _leg_kind(m, spec, trigger, what, notes), "quantity": quantity,
            "trigger_price": trigger, "side": side}


def _judged_prices(leg: Dict[str, Any]) -> List[int]:
    """The prices a leg is judged at: its lock price and its trigger price."""
    return [leg_lock_price(leg), int(leg["trigger_price"])]


def _fit(m: Market, quantity: int, prices: Sequence[int], what: str, notes: _Notes) -> int:
    """The largest quantity ≤ ``quantity`` for which quantity × each price is a whole quote amount."""
    unit = 10 ** m.base.decimals
    quantum = lcm(*(unit // gcd(price, unit) for price in prices))
    fitted = quantity - quantity % quantum
    if fitted <= 0:
        raise ValidationError(f"{m.pair}: {what} {m.format_quantity(quantity)} is too small: at these prices a "
                              f"quantity must be a multiple of {m.format_quantity(quantum)} {m.base.symbol}")
    if fitted != quantity:
        notes.add(f"{what} fitted from {m.format_quantity(quantity)} to {m.format_quantity(fitted)} {m.base.symbol} "
                  "so that quantity × every price it is judged at is a whole quote amount (FractionalPrice)")
    return fitted


def _quantity(m: Market, value: Number) -> int:
    return int(value) if isinstance(value, Chain) else m.scale_quantity(value)


def attached_order_type(order_type: Any, take_profit: Any, stop_loss: Any, *, max_price: Any = None,
                        min_price: Any = None) -> str:
    """The order type's name if it can carry triggers and at least one leg is given — checked
    before anything is read or signed (a ``Limit`` order cannot carry triggers; ``max_price``/
    ``min_price`` belong to ``BoundedMarket`` alone, :func:`o2lite.order_building.check_order_options`)."""
    wanted = order_type.strip().lower() if isinstance(order_type, str) else None
    if wanted == "limit":
        raise ValidationError("a Limit order cannot carry triggers (PROTOCOL §14): use Spot, Market, FillOrKill, "
                              "PostOnly or BoundedMarket")
    name = next((t for t in _ORDER_TYPES if t.lower() == wanted), None)
    if name is None:
        raise ValidationError(f"order_type must be one of {', '.join(_ORDER_TYPES)}")
    if take_profit is None and stop_loss is None:
        raise ValidationError("give a take_profit, a stop_loss or both")
    check_order_options(name, post_only=False, max_price=max_price, min_price=min_price, limit_timestamp=None)
    return name


def order_with_triggers(m: Market, side: str, price: Number, quantity: Number, order_type: str = "Spot", *,
                        take_profit: Optional[Protection] = None, stop_loss: Optional[Protection] = None,
                        slippage_bps: Optional[int] = None, max_price: Optional[Number] = None,
                        min_price: Optional[Number] = None) -> TriggerPlan:
    """``CreateOrderWithTriggers``: an order with a take-profit and/or stop-loss attached.

    ``slippage_bps`` applies to a leg given as a bare price. ``order_type``: Spot, Market,
    FillOrKill, PostOnly or BoundedMarket (with ``max_price``/``min_price``); Limit is refused.
    """
    name = attached_order_type(order_type, take_profit, stop_loss, max_price=max_price, min_price=min_price)
    side = canonical_side(side)
    closing = "Sell" if side == "Buy" else "Buy"
    notes = _Notes(m)
    chain_price = _floor_price(m, price, "order price", notes)
    placeholder = {"ParentOrder": {"parent_order_id": PARENT_ORDER_PLACEHOLDER}}
    legs = [(label, _leg(m, _spec(value, slippage_bps, label), closing, placeholder, label, notes))
            for label, value in (("take-profit", take_profit), ("stop-loss", stop_loss)) if value is not None]
    if len(legs) == 2:
        tp, sl = int(legs[0][1]["trigger_price"]), int(legs[1][1]["trigger_price"])
        if tp == sl or (tp < sl if side == "Buy" else tp > sl):
            raise ValidationError(f"the take-profit of a {side} must be {'above' if side == 'Buy' else 'below'} "
                                  f"its stop-loss, got {m.format_price(tp)} and {m.format_price(sl)}")
    prices = [chain_price] + [p for _, leg in legs for p in _judged_prices(leg)]
    chain_quantity = _fit(m, _quantity(m, quantity), prices, "quantity", notes)
    m.validate_order(chain_price, chain_quantity)
    kind: Any = name
    if name == "BoundedMarket":
        if max_price is None or min_price is None:
            raise ValidationError("BoundedMarket needs max_price and min_price")
        kind = {"BoundedMarket": {"max_price": _floor_price(m, max_price, "max price", notes),
                                  "min_price": _floor_price(m, min_price, "min price", notes)}}
    body: Dict[str, Any] = {"side": side, "price": chain_price, "quantity": chain_quantity, "order_type": kind,
                            "trigger_1": legs[0][1]}
    if len(legs) == 2:
        body["trigger_2"] = legs[1][1]
    return TriggerPlan(m, canonical_action({"CreateOrderWithTriggers": body}), tuple(notes.items))


def _explicit_leg(m: Market, spec: TriggerSpec, side: str, quantity: Optional[Number], parent: Optional[Order],
                  what: str, notes: _Notes) -> Dict[str, Any]:
    if quantity is None:
        if parent is None:
            raise ValidationError(f"{what}: give a quantity, or a parent order whose quantity it inherits")
        return _leg(m, spec, side, {"ParentOrder": {"parent_order_id": parent.order_id}}, what, notes)
    leg = _leg(m, spec, side, None, what, notes)
    fitted = _fit(m, _quantity(m, quantity), _judged_prices(leg), f"{what} quantity", notes)
    m.validate_order(leg_lock_price(leg), fitted)  # positive, on the tick, whole, above min_order
    return dict(leg, quantity={"Quantity": {"quantity": fitted}})


def _parent_ref(m: Market, parent: Optional[Order], side: str,
                legs: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The ``parent`` of a standalone trigger, once the rules the exchange would refuse it by
    (after signing) are checked: a resting order without fills, protected on the closing side, at
    a trigger price other than its own."""
    if parent is None:
        return None
    if not parent.is_open:
        raise ValidationError(f"order {parent.order_id} is {parent.state}: a trigger can only protect a resting order")
    if parent.market_id is not None and parent.market_id != m.market_id:
        raise ValidationError(f"order {parent.order_id} rests in another market than {m.pair} (ParentOrderNotFound)")
    if side == parent.side:
        raise ValidationError(f"a trigger protecting a {parent.side} order takes the closing side, "
                              f"{'Sell' if parent.side == 'Buy' else 'Buy'} (TriggerSideSameAsParent)")
    if parent.quantity_fill:
        raise ValidationError(f"order {parent.order_id} already has fills: the exchange binds triggers only to an "
                              "order with none (ParentOrderAlreadyHasFills)")
    if any(int(leg["trigger_price"]) == parent.price for leg in legs):
        raise ValidationError("a trigger price equal to the parent order's price is refused (TriggerPriceSameAsParent)")
    return {"order_id": parent.order_id, "expected_quantity": parent.quantity}


def standalone_trigger(m: Market, side: str, trigger: Protection, quantity: Optional[Number] = None, *,
                       parent: Optional[Order] = None, slippage_bps: Optional[int] = None) -> TriggerPlan:
    """``CreateTriggerOrder``: an entry stop of ``quantity``, or protection of a resting
    ``parent`` order (its quantity inherited when ``quantity`` is ``None``). A parent must be
    resting with no fills, and the trigger take its closing side at another price — refused here,
    before signing, as the exchange would refuse it."""
    side, notes = canonical_side(side), _Notes(m)
    leg = _explicit_leg(m, _spec(trigger, slippage_bps, "trigger"), side, quantity, parent, "trigger", notes)
    body: Dict[str, Any] = {"args": leg}
    if parent is not None:
        body["parent"] = _parent_ref(m, parent, side, [leg])
    return TriggerPlan(m, canonical_action({"CreateTriggerOrder": body}), tuple(notes.items))


def oco_pair(m: Market, side: str, first: Protection, second: Protection, quantity: Optional[Number] = None, *,
             parent: Optional[Order] = None, slippage_bps: Optional[int] = None) -> TriggerPlan:
    """``CreateTriggerOrders``: two legs of ``side`` where one firing cancels the other. Their
    trigger prices must differ; the leg that locks more is sent first."""
    side, notes = canonical_side(side), _Notes(m)
    legs = [_explicit_leg(m, _spec(value, slippage_bps, label), side, quantity, parent, label, notes)
            for label, value in (("first leg", first), ("second leg", second))]
    canonical = [canonical_action({"CreateTriggerOrder": {"args": leg}})["CreateTriggerOrder"]["args"] for leg in legs]
    if canonical[0]["trigger_price"] == canonical[1]["trigger_price"]:
        raise ValidationError("the two legs of an OCO pair need different trigger prices")
    if leg_lock(canonical[1], m.base.decimals) > leg_lock(canonical[0], m.base.decimals):
        canonical.reverse()
        notes.add("OCO legs swapped so the leg that locks more goes first (the chain escrows only the first's lock)")
    body: Dict[str, Any] = {"first": canonical[0], "second": canonical[1]}
    if parent is not None:
        body["parent"] = _parent_ref(m, parent, side, canonical)
    return TriggerPlan(m, canonical_action({"CreateTriggerOrders": body}), tuple(notes.items))

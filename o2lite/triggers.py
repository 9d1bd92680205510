"""Take-profit, stop-loss and OCO in human units: building trigger actions, then sending them.

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

Proven against the official TypeScript encoder's output (``tests/vectors/triggers.json``); not
yet checked against a live exchange.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import gcd
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, Union

from ._hex import b256_hex
from .actions import canonical_action, canonical_side
from .errors import ValidationError
from .market import Market, to_decimal
from .models import Order, TxResult
from .order_building import Chain, Number
from .trigger_encoding import PARENT_ORDER_PLACEHOLDER, leg_lock, leg_lock_price
from .trigger_models import ActiveOrders

__all__ = ["TriggerSpec", "TriggerPlan", "TriggerTrading", "order_with_triggers", "standalone_trigger", "oco_pair",
           "place_with_triggers", "place_trigger", "place_oco", "cancel_trigger", "cancel_all_triggers",
           "active_orders"]

MAX_SLIPPAGE_BPS = 10_000  # 100 %: a wider band is no bound at all
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
    quantum = 1
    for price in prices:
        step = unit // gcd(price, unit)
        quantum = quantum * step // gcd(quantum, step)
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


def order_with_triggers(m: Market, side: str, price: Number, quantity: Number, order_type: str = "Spot", *,
                        take_profit: Optional[Protection] = None, stop_loss: Optional[Protection] = None,
                        slippage_bps: Optional[int] = None, max_price: Optional[Number] = None,
                        min_price: Optional[Number] = None) -> TriggerPlan:
    """``CreateOrderWithTriggers``: an order with a take-profit and/or stop-loss attached.

    ``slippage_bps`` applies to a leg given as a bare price. ``order_type``: Spot, Market,
    FillOrKill, PostOnly or BoundedMarket (with ``max_price``/``min_price``); Limit is refused.
    """
    if not isinstance(order_type, str) or order_type.strip().lower() not in {t.lower() for t in _ORDER_TYPES}:
        if isinstance(order_type, str) and order_type.strip().lower() == "limit":
            raise ValidationError("a Limit order cannot carry triggers (PROTOCOL §14): use Spot, Market, FillOrKill, "
                                  "PostOnly or BoundedMarket")
        raise ValidationError(f"order_type must be one of {', '.join(_ORDER_TYPES)}")
    if take_profit is None and stop_loss is None:
        raise ValidationError("give a take_profit, a stop_loss or both")
    name = next(t for t in _ORDER_TYPES if t.lower() == order_type.strip().lower())
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


def _parent_ref(parent: Optional[Order]) -> Optional[Dict[str, Any]]:
    if parent is None:
        return None
    if not parent.is_open:
        raise ValidationError(f"order {parent.order_id} is {parent.state}: a trigger can only protect a resting order")
    return {"order_id": parent.order_id, "expected_quantity": parent.quantity}


def standalone_trigger(m: Market, side: str, trigger: Protection, quantity: Optional[Number] = None, *,
                       parent: Optional[Order] = None, slippage_bps: Optional[int] = None) -> TriggerPlan:
    """``CreateTriggerOrder``: an entry stop of ``quantity``, or protection of a resting
    ``parent`` order (its quantity inherited when ``quantity`` is ``None``)."""
    side, notes = canonical_side(side), _Notes(m)
    leg = _explicit_leg(m, _spec(trigger, slippage_bps, "trigger"), side, quantity, parent, "trigger", notes)
    body: Dict[str, Any] = {"args": leg}
    if parent is not None:
        body["parent"] = _parent_ref(parent)
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
        body["parent"] = _parent_ref(parent)
    return TriggerPlan(m, canonical_action({"CreateTriggerOrders": body}), tuple(notes.items))


# --- sending, for a Trader ------------------------------------------------------------------


class _Trading(Protocol):
    """What these functions use of a :class:`~o2lite.Trader`."""

    client: Any

    def submit(self, groups: Sequence[Any], *, collect_orders: bool = True) -> Any: ...  # noqa: E704

    def settle_action(self) -> Dict[str, Any]: ...  # noqa: E704

    def batch(self) -> Any: ...  # noqa: E704

    def _account(self) -> str: ...  # noqa: E704


def _send(trader: _Trading, plan: TriggerPlan, settle_first: bool) -> Any:
    for note in plan.adjustments:
        warnings.warn(note, stacklevel=4)
    if not isinstance(settle_first, bool):
        raise ValidationError("settle_first must be True or False")
    actions = [trader.settle_action(), plan.action] if settle_first else [plan.action]
    return trader.submit([{"market_id": plan.market.market_id, "actions": actions}])


def _parent(trader: _Trading, m: Market, parent: Union[None, str, Order]) -> Optional[Order]:
    if parent is None or isinstance(parent, Order):
        return parent
    found: Order = trader.client.orders.get(m, b256_hex(parent, "parent order id"))
    return found


def place_with_triggers(trader: _Trading, market: Any, side: str, price: Number, quantity: Number,
                        order_type: str = "Spot", *, take_profit: Optional[Protection] = None,
                        stop_loss: Optional[Protection] = None, slippage_bps: Optional[int] = None,
                        max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                        settle_first: bool = True) -> TxResult:
    """Place an order with a take-profit and/or stop-loss attached (see :func:`order_with_triggers`)."""
    m = trader.client.markets.get(market)
    plan = order_with_triggers(m, side, price, quantity, order_type, take_profit=take_profit, stop_loss=stop_loss,
                               slippage_bps=slippage_bps, max_price=max_price, min_price=min_price)
    result: TxResult = _send(trader, plan, settle_first)
    return result


def place_trigger(trader: _Trading, market: Any, side: str, trigger: Protection, quantity: Optional[Number] = None,
                  *, parent: Union[None, str, Order] = None, slippage_bps: Optional[int] = None,
                  settle_first: bool = True) -> TxResult:
    """Place a standalone trigger (see :func:`standalone_trigger`); ``parent`` may be an order id."""
    m = trader.client.markets.get(market)
    plan = standalone_trigger(m, side, trigger, quantity, parent=_parent(trader, m, parent), slippage_bps=slippage_bps)
    result: TxResult = _send(trader, plan, settle_first)
    return result


def place_oco(trader: _Trading, market: Any, side: str, first: Protection, second: Protection,
              quantity: Optional[Number] = None, *, parent: Union[None, str, Order] = None,
              slippage_bps: Optional[int] = None, settle_first: bool = True) -> TxResult:
    """Place an OCO pair (see :func:`oco_pair`); ``parent`` may be an order id."""
    m = trader.client.markets.get(market)
    plan = oco_pair(m, side, first, second, quantity, parent=_parent(trader, m, parent), slippage_bps=slippage_bps)
    result: TxResult = _send(trader, plan, settle_first)
    return result


def cancel_trigger(trader: _Trading, trigger_id: str, market: Any) -> TxResult:
    """Cancel one trigger order (``CancelTriggerOrder``, the contract's ``cancel_order``)."""
    m = trader.client.markets.get(market)
    action = {"CancelTriggerOrder": {"order_id": b256_hex(trigger_id, "trigger order id")}}
    result: TxResult = trader.submit([{"market_id": m.market_id, "actions": [action]}])
    return result


def active_orders(trader: _Trading, market: Any) -> ActiveOrders:
    """This account's resting orders with their triggers, and its standalone triggers, in ``market``."""
    found: ActiveOrders = trader.client.orders.active(market, trader._account())
    return found


def cancel_all_triggers(trader: _Trading, market: Any) -> List[Any]:
    """Cancel every active trigger of this account in ``market`` (nested and standalone), five
    per request, paced; stops with :class:`~o2lite.errors.BatchIncomplete` if one fails."""
    ids = list(dict.fromkeys(t.order_id for t in active_orders(trader, market).triggers if t.is_active))
    batch = trader.batch()
    for trigger_id in ids:
        batch.cancel_trigger(trigger_id, market)
    sent: List[Any] = batch.send() if ids else []
    return sent



class TriggerTrading:
    """The trigger-order methods of :class:`o2lite.Trader` (which inherits them); each delegates
    to the function of this module with the same name."""

    client: Any
    submit: Callable[..., Any]  # the Trader's
    settle_action: Callable[[], Dict[str, Any]]
    batch: Callable[[], Any]
    _account: Callable[[], str]

    def place_with_triggers(self, market: Any, side: str, price: Number, quantity: Number, order_type: str = "Spot",
                            **options: Any) -> TxResult:
        """An order with a take-profit and/or stop-loss attached (:func:`place_with_triggers`)."""
        return place_with_triggers(self, market, side, price, quantity, order_type, **options)

    def place_trigger(self, market: Any, side: str, trigger: Protection, quantity: Optional[Number] = None,
                      **options: Any) -> TxResult:
        """A standalone trigger: an entry stop, or protection of ``parent=`` (:func:`place_trigger`)."""
        return place_trigger(self, market, side, trigger, quantity, **options)

    def place_oco(self, market: Any, side: str, first: Protection, second: Protection,
                  quantity: Optional[Number] = None, **options: Any) -> TxResult:
        """Two triggers where one firing cancels the other (:func:`place_oco`)."""
        return place_oco(self, market, side, first, second, quantity, **options)

    def cancel_trigger(self, trigger_id: str, market: Any) -> TxResult:
        """Cancel one trigger order (:func:`cancel_trigger`)."""
        return cancel_trigger(self, trigger_id, market)

    def cancel_all_triggers(self, market: Any) -> List[Any]:
        """Cancel every active trigger of this account in ``market`` (:func:`cancel_all_triggers`)."""
        return cancel_all_triggers(self, market)

    def active_orders(self, market: Any) -> ActiveOrders:
        """``GET /v1/orders/active`` for this account (:func:`active_orders`)."""
        return active_orders(self, market)

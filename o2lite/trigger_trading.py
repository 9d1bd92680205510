"""Sending trigger orders for a :class:`~o2lite.Trader`: plans from :mod:`o2lite.triggers`,
signed and submitted like every other action (PROTOCOL §14).

Each adjustment a plan made (a price floored to the tick, a quantity fitted, OCO legs swapped)
is reported as a warning before the request is signed. :class:`TriggerTrading` is the part of
:class:`~o2lite.Trader` that offers these (the Trader inherits it); in a dry run each returns the
:class:`~o2lite.signed.SignedRequest` it would send.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Set, TypeVar, Union

from ._hex import b256_hex
from .errors import BatchIncomplete, O2Error, ValidationError
from .market import Market
from .models import Order, TxResult
from .order_building import Number
from .trigger_models import ActiveOrders
from .triggers import (Protection, TriggerPlan, attached_order_type, oco_pair, order_with_triggers,
                       standalone_trigger)

__all__ = ["TriggerTrading", "place_with_triggers", "place_trigger", "place_oco", "cancel_trigger",
           "cancel_all_triggers", "active_orders"]

R = TypeVar("R", covariant=True)
#: Rounds of read-then-cancel :func:`cancel_all_triggers` makes at most (each page ≤ 200 entries).
MAX_CANCEL_ROUNDS = 50


class _Trading(Protocol[R]):
    """What these functions use of a :class:`~o2lite.Trader` (``submit`` sends: ``R`` is a
    TxResult) or of a :class:`~o2lite.DryRunTrader` (``submit`` prepares: a SignedRequest)."""

    client: Any

    def submit(self, groups: Sequence[Any], *, collect_orders: bool = True) -> R: ...  # noqa: E704

    def settle_action(self) -> Dict[str, Any]: ...  # noqa: E704

    def _account(self) -> str: ...  # noqa: E704


class _Batching(Protocol):
    """What :func:`cancel_all_triggers` uses of a :class:`~o2lite.Trader`."""

    client: Any

    def batch(self) -> Any: ...  # noqa: E704

    def _account(self) -> str: ...  # noqa: E704


def _send(trader: _Trading[R], plan: TriggerPlan, settle_first: bool) -> R:
    for note in plan.adjustments:
        warnings.warn(note, stacklevel=4)
    if not isinstance(settle_first, bool):
        raise ValidationError("settle_first must be True or False")
    actions = [trader.settle_action(), plan.action] if settle_first else [plan.action]
    return trader.submit([{"market_id": plan.market.market_id, "actions": actions}])


def _parent(trader: _Trading[Any], m: Market, parent: Union[None, str, Order]) -> Optional[Order]:
    if parent is None or isinstance(parent, Order):
        return parent
    found: Order = trader.client.orders.get(m, b256_hex(parent, "parent order id"))
    return found


def place_with_triggers(trader: _Trading[R], market: Any, side: str, price: Number, quantity: Number,
                        order_type: str = "Spot", *, take_profit: Optional[Protection] = None,
                        stop_loss: Optional[Protection] = None, slippage_bps: Optional[int] = None,
                        max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                        settle_first: bool = True) -> R:
    """Place an order with a take-profit and/or stop-loss attached (see :func:`order_with_triggers`)."""
    attached_order_type(order_type, take_profit, stop_loss, max_price=max_price, min_price=min_price)  # before any read
    m = trader.client.markets.get(market)
    plan = order_with_triggers(m, side, price, quantity, order_type, take_profit=take_profit, stop_loss=stop_loss,
                               slippage_bps=slippage_bps, max_price=max_price, min_price=min_price)
    return _send(trader, plan, settle_first)


def place_trigger(trader: _Trading[R], market: Any, side: str, trigger: Protection, quantity: Optional[Number] = None,
                  *, parent: Union[None, str, Order] = None, slippage_bps: Optional[int] = None,
                  settle_first: bool = True) -> R:
    """Place a standalone trigger (see :func:`standalone_trigger`); ``parent`` may be an order id."""
    m = trader.client.markets.get(market)
    plan = standalone_trigger(m, side, trigger, quantity, parent=_parent(trader, m, parent), slippage_bps=slippage_bps)
    return _send(trader, plan, settle_first)


def place_oco(trader: _Trading[R], market: Any, side: str, first: Protection, second: Protection,
              quantity: Optional[Number] = None, *, parent: Union[None, str, Order] = None,
              slippage_bps: Optional[int] = None, settle_first: bool = True) -> R:
    """Place an OCO pair (see :func:`oco_pair`); ``parent`` may be an order id."""
    m = trader.client.markets.get(market)
    plan = oco_pair(m, side, first, second, quantity, parent=_parent(trader, m, parent), slippage_bps=slippage_bps)
    return _send(trader, plan, settle_first)


def cancel_trigger(trader: _Trading[R], trigger_id: str, market: Any) -> R:
    """Cancel one trigger order (``CancelTriggerOrder``, the contract's ``cancel_order``)."""
    m = trader.client.markets.get(market)
    action = {"CancelTriggerOrder": {"order_id": b256_hex(trigger_id, "trigger order id")}}
    return trader.submit([{"market_id": m.market_id, "actions": [action]}])


def active_orders(trader: _Trading[Any], market: Any) -> ActiveOrders:
    """This account's resting orders with their triggers, and its standalone triggers, in ``market``."""
    found: ActiveOrders = trader.client.orders.active(market, trader._account())
    return found


def cancel_all_triggers(trader: _Batching, market: Any) -> List[TxResult]:
    """Cancel every active trigger of this account in ``market`` (nested and standalone), five
    per request, paced; stops with :class:`~o2lite.errors.BatchIncomplete` if one fails.

    ``GET /v1/orders/active`` answers one page (its cursor is unpublished), so the page is read
    again after each round of cancels until it shows no trigger not already cancelled — at most
    :data:`MAX_CANCEL_ROUNDS` rounds, else an :class:`~o2lite.errors.O2Error` says some remain.
    """
    sent: List[TxResult] = []
    tried: Set[str] = set()
    for _ in range(MAX_CANCEL_ROUNDS):
        found: ActiveOrders = trader.client.orders.active(market, trader._account())
        ids = [i for i in dict.fromkeys(t.order_id for t in found.triggers if t.is_active) if i not in tried]
        if not ids:
            return sent
        tried.update(ids)
        batch = trader.batch()
        for trigger_id in ids:
            batch.cancel_trigger(trigger_id, market)
        try:
            sent += batch.send()
        except BatchIncomplete as exc:
            exc.landed = sent + exc.landed  # every request that landed, earlier rounds included
            raise
    raise O2Error(f"{len(tried)} triggers cancelled in {MAX_CANCEL_ROUNDS} rounds and the active orders still list "
                  "more: run it again")



MarketRef = Union[str, Market]


class TriggerTrading:
    """The trigger-order methods of :class:`o2lite.Trader` (which inherits them); each delegates
    to the function of this module with the same name."""

    client: Any
    submit: Callable[..., TxResult]  # the Trader's
    settle_action: Callable[[], Dict[str, Any]]
    batch: Callable[[], Any]
    _account: Callable[[], str]

    def place_with_triggers(self, market: MarketRef, side: str, price: Number, quantity: Number,
                            order_type: str = "Spot", *, take_profit: Optional[Protection] = None,
                            stop_loss: Optional[Protection] = None, slippage_bps: Optional[int] = None,
                            max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                            settle_first: bool = True) -> TxResult:
        """An order with a take-profit and/or stop-loss attached (:func:`place_with_triggers`)."""
        return place_with_triggers(self, market, side, price, quantity, order_type, take_profit=take_profit,
                                   stop_loss=stop_loss, slippage_bps=slippage_bps, max_price=max_price,
                                   min_price=min_price, settle_first=settle_first)

    def place_trigger(self, market: MarketRef, side: str, trigger: Protection, quantity: Optional[Number] = None, *,
                      parent: Union[None, str, Order] = None, slippage_bps: Optional[int] = None,
                      settle_first: bool = True) -> TxResult:
        """A standalone trigger: an entry stop, or protection of ``parent`` (:func:`place_trigger`)."""
        return place_trigger(self, market, side, trigger, quantity, parent=parent, slippage_bps=slippage_bps,
                             settle_first=settle_first)

    def place_oco(self, market: MarketRef, side: str, first: Protection, second: Protection,
                  quantity: Optional[Number] = None, *, parent: Union[None, str, Order] = None,
                  slippage_bps: Optional[int] = None, settle_first: bool = True) -> TxResult:
        """Two triggers where one firing cancels the other (:func:`place_oco`)."""
        return place_oco(self, market, side, first, second, quantity, parent=parent, slippage_bps=slippage_bps,
                         settle_first=settle_first)

    def cancel_trigger(self, trigger_id: str, market: MarketRef) -> TxResult:
        """Cancel one trigger order (:func:`cancel_trigger`)."""
        return cancel_trigger(self, trigger_id, market)

    def cancel_all_triggers(self, market: MarketRef) -> List[TxResult]:
        """Cancel every active trigger of this account in ``market`` (:func:`cancel_all_triggers`)."""
        return cancel_all_triggers(self, market)

    def active_orders(self, market: MarketRef) -> ActiveOrders:
        """``GET /v1/orders/active`` for this account (:func:`active_orders`)."""
        return active_orders(self, market)

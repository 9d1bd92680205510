"""Orders of an account: one page, one order, or all of them (PROTOCOL §5, Orders)."""

from __future__ import annotations

from typing import Callable, Iterator, List, Optional, Tuple

from ._hex import b256_hex, to_int
from ._paging import iter_keyset
from .errors import ValidationError
from .markets import MarketRef, Markets, ms_of
from .models import Order, OrdersPage
from .transport import Transport
from .trigger_models import ActiveOrders

__all__ = ["Orders", "MAX_ORDERS"]

MAX_ORDERS = 200  # orders `count` limit (PROTOCOL §4)


class Orders:
    """``GET /v1/orders``, ``GET /v1/order`` and ``GET /v1/orders/active``. Markets are resolved
    through ``markets``."""

    def __init__(self, transport: Transport, markets: Markets) -> None:
        self._t = transport
        self._markets = markets

    def list(self, market: MarketRef, trade_account_id: str, *, is_open: Optional[bool] = None,
             count: int = MAX_ORDERS, direction: str = "desc", start_timestamp: Optional[int] = None,
             start_order_id: Optional[str] = None) -> OrdersPage:
        """``GET /v1/orders?market_id&contract&direction&count[&is_open][&start_timestamp&start_order_id]``.

        Args:
            is_open: ``True`` only open orders, ``False`` only closed, ``None`` all.
        Returns:
            OrdersPage with ``.orders``.
        """
        if is_open is not None and not isinstance(is_open, bool):
            raise ValidationError("is_open must be True, False or None")
        if not isinstance(direction, str) or direction not in ("asc", "desc"):
            raise ValidationError("direction must be 'asc' or 'desc'")
        if (start_timestamp is None) != (start_order_id is None):
            raise ValidationError("give both start_timestamp and start_order_id, or neither")
        m = self._markets.get(market)
        params = {"market_id": m.market_id,
                  "contract": b256_hex(trade_account_id, "trade_account_id"), "direction": direction,
                  "count": str(to_int(count, "count", low=1, high=MAX_ORDERS)),
                  "is_open": None if is_open is None else ("true" if is_open else "false"),
                  "start_timestamp": None if start_timestamp is None else str(ms_of(start_timestamp, "start_timestamp")),
                  "start_order_id": None if start_order_id is None else b256_hex(start_order_id, "start_order_id")}
        return self._t.request("GET", "/v1/orders", params=params,
                               parse=lambda body: OrdersPage.from_json(body, "GET /v1/orders", m))

    def get(self, market: MarketRef, order_id: str) -> Order:
        """``GET /v1/order?market_id&order_id`` → the order (``{order: …}`` or bare)."""
        m = self._markets.get(market)
        return self._t.request("GET", "/v1/order", params={"market_id": m.market_id,
                                                          "order_id": b256_hex(order_id, "order_id")},
                               parse=lambda body: Order.from_json(body, "GET /v1/order", m.market_id,
                                                                  {m.market_id: m}))

    def active(self, market: MarketRef, trade_account_id: str, *, count: int = MAX_ORDERS,
               direction: str = "desc") -> ActiveOrders:
        """``GET /v1/orders/active?market_id&contract&direction&count`` (PROTOCOL §14): resting
        orders with their take-profit/stop-loss triggers, and standalone triggers — the only
        way to see triggers made before a stream was opened.

        Both official shapes are read (``triggers`` or ``active_trigger_orders``), and a cursor
        (``next_timestamp``/``next_id``/``next_kind``) is returned on ``.cursor`` when present; how
        to send it back is unpublished, so one page is read.

        Returns:
            :class:`~o2lite.trigger_models.ActiveOrders`.
        """
        if not isinstance(direction, str) or direction not in ("asc", "desc"):
            raise ValidationError("direction must be 'asc' or 'desc'")
        m = self._markets.get(market)
        params = {"market_id": m.market_id, "contract": b256_hex(trade_account_id, "trade_account_id"),
                  "direction": direction, "count": str(to_int(count, "count", low=1, high=MAX_ORDERS))}
        return self._t.request("GET", "/v1/orders/active", params=params,
                               parse=lambda body: ActiveOrders.from_json(body, "GET /v1/orders/active", m))

    def iter_orders(self, market: MarketRef, trade_account_id: str, *, is_open: Optional[bool] = None,
                    direction: str = "desc", page_size: int = MAX_ORDERS,
                    max_items: Optional[int] = None) -> Iterator[Order]:
        """Every order, following the keyset cursor (timestamp + order id of the last item)."""
        def page(ts: Optional[int], oid: Optional[str]) -> List[Order]:
            return list(self.list(market, trade_account_id, is_open=is_open, count=page_size,
                                  direction=direction, start_timestamp=ts, start_order_id=oid).orders)
        key: Callable[[Order], Tuple[int, str]] = lambda o: (o.timestamp or 0, o.order_id)  # noqa: E731
        return iter_keyset(page, page_size, max_items, key)

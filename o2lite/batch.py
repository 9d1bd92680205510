"""``Batch``: mixed actions across markets, split into as few valid requests as possible."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple, Union

from ._hex import b256_hex
from .errors import BatchIncomplete, O2Error, SubmissionUnknown
from .market import Market
from .models import Order, TxResult
from .order_building import Number, OrderTypeName, Side
from .endpoint_groups import EndpointGroups
from .session import MAX_ACTIONS

__all__ = ["Batch"]

# Good batch order (PROTOCOL §5): stale cancels, then settles, then new orders.
_KIND_ORDER = {"CancelOrder": 0, "CancelTriggerOrder": 0, "SettleBalance": 1, "RegisterReferer": 1, "CreateOrder": 2,
               "CreateOrderWithTriggers": 2, "CreateTriggerOrder": 2, "CreateTriggerOrders": 2}

class Submitter(Protocol):
    """What a batch needs of its :class:`~o2lite.Trader`."""

    client: EndpointGroups

    def create_order_action(self, market: Union[str, Market], side: Side, price: Number, quantity: Number,
                            order_type: Union[OrderTypeName, Dict[str, Any]] = ..., *, post_only: bool = ...,
                            max_price: Optional[Number] = ..., min_price: Optional[Number] = ...,
                            limit_timestamp: Optional[int] = ..., round: bool = ...) -> Dict[str, Any]: ...

    def order_ref(self, order: Union[str, Order], market: Optional[Union[str, Market]]) -> Tuple[str, str]: ...

    def settle_action(self) -> Dict[str, Any]: ...

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = ...,
               pace: Optional[bool] = ...) -> TxResult: ...


class Batch:
    """Mixed actions across markets, sent as few valid requests (≤ 5 actions, ≤ 5 markets each).

    Within each request a market's actions go cancels first, then settles, then new orders.
    """

    def __init__(self, trader: Submitter) -> None:
        self._trader = trader
        self._actions: List[Tuple[str, Dict[str, Any]]] = []

    def place(self, market: Union[str, Market], side: Side, price: Number, quantity: Number,
              order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, post_only: bool = False,
              max_price: Optional[Number] = None, min_price: Optional[Number] = None,
              limit_timestamp: Optional[int] = None, round: bool = False) -> "Batch":
        """Add a ``CreateOrder`` (same arguments as :meth:`Trader.create_order_action`)."""
        m = self._trader.client.markets.get(market)
        action = self._trader.create_order_action(m, side, price, quantity, order_type, post_only=post_only,
                                                  max_price=max_price, min_price=min_price,
                                                  limit_timestamp=limit_timestamp, round=round)
        self._actions.append((m.market_id, action))
        return self

    def cancel(self, order: Union[str, Order], market: Optional[Union[str, Market]] = None) -> "Batch":
        """Add a ``CancelOrder``."""
        order_id, market_id = self._trader.order_ref(order, market)
        self._actions.append((market_id, {"CancelOrder": {"order_id": order_id}}))
        return self

    def cancel_trigger(self, trigger_id: str, market: Union[str, Market]) -> "Batch":
        """Add a ``CancelTriggerOrder`` (PROTOCOL §14)."""
        self._actions.append((self._trader.client.markets.get(market).market_id,
                              {"CancelTriggerOrder": {"order_id": b256_hex(trigger_id, "trigger order id")}}))
        return self

    def settle(self, market: Union[str, Market]) -> "Batch":
        """Add a ``SettleBalance`` to the trade account."""
        self._actions.append((self._trader.client.markets.get(market).market_id, self._trader.settle_action()))
        return self

    def requests(self) -> List[List[Mapping[str, Any]]]:
        """The action groups of each request, in sending order."""
        ordered = sorted(enumerate(self._actions), key=lambda ia: (_KIND_ORDER[next(iter(ia[1][1]))], ia[0]))
        out: List[List[Mapping[str, Any]]] = []
        for start in range(0, len(ordered), MAX_ACTIONS):
            groups: Dict[str, List[Dict[str, Any]]] = {}
            for _, (market_id, action) in ordered[start:start + MAX_ACTIONS]:
                groups.setdefault(market_id, []).append(action)
            out.append([{"market_id": mid, "actions": acts} for mid, acts in groups.items()])
        return out

    def send(self, *, pace: Optional[bool] = None) -> List[TxResult]:
        """Send every request in order, paced under the owner's rate limit (at most 5 in any
        second, PROTOCOL §4, shared with the owner's other signed calls) unless ``pace=False``
        (default: the trader's ``pacing``); a request refused with 429 is resent unchanged after
        ``Retry-After`` (see :mod:`o2lite.pacing`).

        Raises :class:`~o2lite.errors.BatchIncomplete` at the first failure, with every request
        accounted for: ``landed``, ``unknown`` (a lost answer: the request with its
        :class:`~o2lite.errors.SubmissionUnknown`) or ``not_sent``, and the cause.
        """
        requests = self.requests()
        landed: List[TxResult] = []
        for index, groups in enumerate(requests):
            try:
                landed.append(self._trader.submit(groups, pace=pace))
            except O2Error as exc:
                lost = isinstance(exc, SubmissionUnknown)
                unknown = [(groups, exc)] if lost else []
                unsent = requests[index + 1:] if lost else requests[index:]
                raise BatchIncomplete(f"batch stopped at request {index + 1} of {len(requests)}: {exc.message} — "
                                      f"{len(landed)} landed, {len(unknown)} unknown, {len(unsent)} not sent"
                                      + (" (the unknown one may have landed: reconcile it)" if lost else ""),
                                      landed=landed, unknown=unknown, not_sent=unsent, cause=exc) from exc
        return landed

    def __len__(self) -> int:
        return len(self._actions)

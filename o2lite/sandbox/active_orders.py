"""The sandbox's ``GET /v1/orders/active`` (PROTOCOL §14): resting orders with their triggers,
and standalone triggers, of one account in one market.

Shape: ``{identity, market_id, entries}``; a resting order is ``{kind: "order", …Order, triggers:
[…]}`` (the current official line's name for the nested list; the earlier line's
``active_trigger_orders`` is not emitted), a trigger with no resting parent is ``{kind:
"trigger", …}``. Entries are ordered by timestamp (``direction``, default desc) and cut at
``count``; no cursor is emitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Tuple

from .._hex import b256_hex
from ..error_codes import ErrorCode
from .core import ExchangeCore, Routes
from .errors import api_error
from .reads import query_int

__all__ = ["active_routes"]


def active_routes(ex: ExchangeCore) -> Routes:
    """The ``GET /v1/orders/active`` route of ``ex`` (run under the exchange lock)."""

    def active(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        if "market_id" not in query:
            raise api_error(ErrorCode.INVALID_REQUEST, "market_id is required")
        market = ex.market_by_id(b256_hex(query["market_id"], "market_id"))
        account = b256_hex(query.get("contract") or query.get("account") or "", "contract")
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise api_error(ErrorCode.INVALID_REQUEST, "direction must be asc or desc")
        count = query_int(query, "count", 200, 1, 200)
        decimals = market["base"]["decimals"]
        triggers = ex.triggers.active(market["market_id"], account)
        entries: List[Tuple[Tuple[int, int], Dict[str, Any]]] = []
        for order in ex.orders.values():
            if order.account == account and order.market_id == market["market_id"] and not order.close:
                children = [t.to_json() for t in triggers if t.parent == order.order_id]
                entries.append(((order.timestamp, order.seq), dict(order.to_json(decimals), kind="order",
                                                                   triggers=children)))
        resting = {entry["order_id"] for _, entry in entries}
        for trigger in triggers:
            if trigger.parent not in resting:
                entries.append(((trigger.timestamp, trigger.seq), trigger.to_json()))
        entries.sort(key=lambda item: item[0], reverse=direction == "desc")
        return {"identity": {"ContractId": account}, "market_id": market["market_id"],
                "entries": [entry for _, entry in entries[:count]]}

    return {("GET", "/v1/orders/active"): ex.locked(active)}

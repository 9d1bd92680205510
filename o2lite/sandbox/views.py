"""The exchange's JSON views shared by the REST reads and the WebSocket hub, and the part of the
exchange they read (:class:`ExchangeView`), so neither needs the exchange core's module."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple, Union

from .book import Book, Ledger, Order

__all__ = ["ExchangeView", "trade_json", "balance_json"]


class ExchangeView(Protocol):
    """What the views and the hub read of the exchange (:class:`~o2lite.sandbox.core.ExchangeCore`)."""

    clock: Callable[[], float]
    markets: List[Dict[str, Any]]
    by_market_id: Dict[str, Dict[str, Any]]
    books: Dict[str, Book]
    trades: Dict[str, List[Dict[str, Any]]]
    accounts: Dict[str, Dict[str, Any]]
    ledger: Ledger
    touched_orders: Optional[List[Order]]
    touched_triggers: Optional[List[Dict[str, Any]]]

    def assets(self) -> Dict[str, Tuple[str, int]]:
        """Every asset id → (symbol, decimals)."""


def trade_json(t: Dict[str, Any], account: Union[str, None] = None) -> Dict[str, Any]:
    """A trade as the exchange's ``Trade`` JSON (``trader_side`` when seen from an account)."""
    out = {"trade_id": t["trade_id"], "side": t["side"], "price": t["price"], "quantity": t["quantity"],
           "total": t["total"], "timestamp": str(t["timestamp"]), "maker": t["maker"], "taker": t["taker"]}
    if account is not None:
        roles = [r for r, who in (("maker", t["maker"]), ("taker", t["taker"])) if who["ContractId"] == account]
        out["trader_side"] = "both" if len(roles) == 2 else roles[0]
    return out


def balance_json(ex: "ExchangeView", account: str, asset: str) -> Dict[str, Any]:
    """One asset's balance of a trade account, as ``GET /v1/balance`` answers it."""
    books, locked_total, unlocked_total = {}, 0, 0
    for m in ex.markets:
        if asset not in (m["base"]["asset"], m["quote"]["asset"]):
            continue
        locked = ex.ledger.get(account, ("locked", m["contract_id"], asset))
        unlocked = ex.ledger.get(account, ("unlocked", m["contract_id"], asset))
        fee = ex.ledger.get(account, ("fee", m["contract_id"], asset))
        books[m["contract_id"]] = {"locked": str(locked), "unlocked": str(unlocked), "fee": str(fee)}
        locked_total, unlocked_total = locked_total + locked, unlocked_total + unlocked
    own = ex.ledger.get(account, ("wallet", asset))
    return {"order_books": books, "total_locked": str(locked_total),
            "total_unlocked": str(unlocked_total + own), "trading_account_balance": str(own)}

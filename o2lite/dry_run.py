"""Dry runs: every signed operation of a :class:`~o2lite.Trader`, prepared but not sent.

``DryRunTrader(client, owner)`` (or ``client.trader(owner, dry_run=True)``) plans exactly what a
Trader plans (:mod:`o2lite.plans`) and *prepares* each plan instead of sending it: ``place``,
``cancel``, ``cancel_all``, ``settle``, ``register_referer``, ``open_session``, ``submit``,
``withdraw``, ``upgrade`` and the trigger orders' ``place_with_triggers``, ``place_trigger``,
``place_oco``, ``cancel_trigger`` return the :class:`~o2lite.signed.SignedRequest`\\ (s) that would be
sent — ``print(request.explain())`` shows every signed byte, ``request.send()`` submits it
unchanged. ``setup_account`` returns a :class:`PreparedSetup` naming the requests it would make.
Reads (markets, the account, balances, orders, fills, the nonce) and the session helpers
(``load_session``, ``save_session``) work as on a Trader; nothing is written to the exchange.

Nonces. A dry run consumes nothing on the exchange. A parallel nonce is taken from the lane's
issuer, whose cursor only moves forward: no later real send reuses it (while the lane's window
has room: positions only shown, never used on chain, are given up once they fill it, so dry runs
never stop real sends — see ``ParallelNonceIssuer.issue``). A sequential nonce is the
account's next one, *shown* but not taken: the next real transaction takes it, after which the
dry-run request is stale and the exchange refuses it if it is sent ("less than the nonce in the
database") — at most one of the two can ever land. A dry run of several requests (``cancel_all``)
numbers them as a Trader would send them: the next nonce, then the one after, and so on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

from ._hex import b256_hex
from .errors import ValidationError
from .models import Order
from .nonce import Nonce
from .order_building import Number, OrderTypeName, Side
from .plans import MarketRef, Plan, Planner
from .session import MAX_ACTIONS
from .signed import SignedRequest
from . import trigger_trading
from .trigger_models import ActiveOrders
from .triggers import Protection

__all__ = ["DryRunTrader", "PreparedSetup"]

T = TypeVar("T")


@dataclass(frozen=True)
class PreparedSetup:
    """What ``setup_account`` would do: the account (``None`` while it does not exist yet) and
    each request it would make as ``(method, url, JSON body)``; none of them is signed."""

    owner: str
    trade_account_id: Optional[str]
    requests: Tuple[Tuple[str, str, Mapping[str, Any]], ...]

    def explain(self) -> str:
        """One line per request, or why there is nothing to send."""
        state = f"trade account {self.trade_account_id}" if self.trade_account_id else "no trade account yet"
        lines = [f"setup for owner {self.owner}: {state}"]
        lines += [f"would send: {method} {url} {json.dumps(body, separators=(',', ':'))}"
                  for method, url, body in self.requests] or ["nothing to send: the account exists"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


class DryRunTrader(Planner):
    """A Trader that prepares instead of sending (see the module doc)."""

    def prepare(self, plan: Plan[Any], *, after: int = 0) -> SignedRequest:
        """The plan's signed request with a nonce that consumes nothing (see the module doc).

        ``after``: how many requests of the same dry run come before this one. A Trader sends
        them in turn, each taking the next sequential nonce, so the ``after``-th takes the
        account's next nonce plus ``after`` (parallel nonces are distinct anyway)."""
        nonce = self.nonces.draw(plan.kind, plan.lane)
        return plan.build(Nonce.sequential(nonce.value + after) if nonce.kind == "sequential" else nonce)

    def setup_account(self, *, fund: bool = False) -> PreparedSetup:
        """The requests :meth:`o2lite.Trader.setup_account` would make (account creation when
        the owner has none, the faucet mint when ``fund``); reads the account, sends nothing."""
        if not isinstance(fund, bool):
            raise ValidationError("fund must be True or False")
        owner = b256_hex(self.owner.address, "owner")
        account = self.client.accounts.get(owner=owner)
        requests: List[Tuple[str, str, Mapping[str, Any]]] = []
        if account.exists:
            self.trade_account_id = account.trade_account_id
        else:
            requests.append(("POST", self.client.transport.url("/v1/accounts"), {"identity": {"Address": owner}}))
        if fund:
            target = self.trade_account_id or "<the new trade account id>"
            requests.append(("POST", self.client.faucet.url, {"contract": target}))
        return PreparedSetup(owner, self.trade_account_id, tuple(requests))

    def open_session(self, markets: Iterable[MarketRef], *, expiry: Optional[int] = None,
                     nonce_kind: str = "sequential", lane: int = 0, session_key: Any = None,
                     parallel_registration: bool = False) -> SignedRequest:
        """The session registration :meth:`o2lite.Trader.open_session` would send (the session is
        not kept: it exists only once the exchange has it)."""
        return self.prepare(self.plan_open_session(markets, expiry=expiry, nonce_kind=nonce_kind, lane=lane,
                                                   session_key=session_key,
                                                   parallel_registration=parallel_registration))

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True) -> SignedRequest:
        """The signed actions request :meth:`o2lite.Trader.submit` would send."""
        return self.prepare(self.plan_submit(groups, collect_orders=collect_orders))

    def place(self, market: MarketRef, side: Side, price: Number, quantity: Number,
              order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, settle_first: bool = True,
              post_only: bool = False, max_price: Optional[Number] = None, min_price: Optional[Number] = None,
              limit_timestamp: Optional[int] = None, collect_orders: bool = True,
              round: bool = False) -> SignedRequest:
        """The request :meth:`o2lite.Trader.place` would send."""
        return self.prepare(self.plan_place(market, side, price, quantity, order_type, settle_first=settle_first,
                                            post_only=post_only, max_price=max_price, min_price=min_price,
                                            limit_timestamp=limit_timestamp, collect_orders=collect_orders,
                                            round=round))

    def cancel(self, order: Union[str, Order], market: Optional[MarketRef] = None) -> SignedRequest:
        """The request :meth:`o2lite.Trader.cancel` would send."""
        return self.prepare(self.plan_cancel(order, market))

    def cancel_all(self, market: MarketRef) -> List[SignedRequest]:
        """The requests :meth:`o2lite.Trader.cancel_all` would send (five cancels each)."""
        self._session()
        orders = self.open_orders(market)
        out: List[SignedRequest] = []
        for start in range(0, len(orders), MAX_ACTIONS):
            cancels = [{"CancelOrder": {"order_id": o.order_id}} for o in orders[start:start + MAX_ACTIONS]]
            market_id = self.client.markets.get(market).market_id
            out.append(self.prepare(self.plan_submit([{"market_id": market_id, "actions": cancels}]), after=len(out)))
        return out

    def place_with_triggers(self, market: MarketRef, side: Side, price: Number, quantity: Number,
                            order_type: str = "Spot", *, take_profit: Optional[Protection] = None,
                            stop_loss: Optional[Protection] = None, slippage_bps: Optional[int] = None,
                            max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                            settle_first: bool = True) -> SignedRequest:
        """The request :meth:`o2lite.Trader.place_with_triggers` would send."""
        return trigger_trading.place_with_triggers(self, market, side, price, quantity, order_type,
                                                   take_profit=take_profit, stop_loss=stop_loss,
                                                   slippage_bps=slippage_bps, max_price=max_price,
                                                   min_price=min_price, settle_first=settle_first)

    def place_trigger(self, market: MarketRef, side: Side, trigger: Protection, quantity: Optional[Number] = None,
                      *, parent: Union[None, str, Order] = None, slippage_bps: Optional[int] = None,
                      settle_first: bool = True) -> SignedRequest:
        """The request :meth:`o2lite.Trader.place_trigger` would send."""
        return trigger_trading.place_trigger(self, market, side, trigger, quantity, parent=parent,
                                             slippage_bps=slippage_bps, settle_first=settle_first)

    def place_oco(self, market: MarketRef, side: Side, first: Protection, second: Protection,
                  quantity: Optional[Number] = None, *, parent: Union[None, str, Order] = None,
                  slippage_bps: Optional[int] = None, settle_first: bool = True) -> SignedRequest:
        """The request :meth:`o2lite.Trader.place_oco` would send."""
        return trigger_trading.place_oco(self, market, side, first, second, quantity, parent=parent,
                                         slippage_bps=slippage_bps, settle_first=settle_first)

    def cancel_trigger(self, trigger_id: str, market: MarketRef) -> SignedRequest:
        """The request :meth:`o2lite.Trader.cancel_trigger` would send."""
        return trigger_trading.cancel_trigger(self, trigger_id, market)

    def active_orders(self, market: MarketRef) -> ActiveOrders:
        """``GET /v1/orders/active`` for this account (a read, as on a Trader)."""
        return trigger_trading.active_orders(self, market)

    def cancel_all_triggers(self, market: MarketRef) -> List[SignedRequest]:
        """The requests :meth:`o2lite.Trader.cancel_all_triggers` would send (five cancels each)."""
        self._session()
        ids = list(dict.fromkeys(t.order_id for t in self.active_orders(market).triggers if t.is_active))
        market_id = self.client.markets.get(market).market_id
        return [self.prepare(self.plan_submit([{"market_id": market_id, "actions": [
            {"CancelTriggerOrder": {"order_id": i}} for i in ids[start:start + MAX_ACTIONS]]}]), after=n)
            for n, start in enumerate(range(0, len(ids), MAX_ACTIONS))]

    def settle(self, market: MarketRef) -> SignedRequest:
        """The request :meth:`o2lite.Trader.settle` would send."""
        return self.prepare(self.plan_settle(market))

    def register_referer(self, to: Mapping[str, str], market: MarketRef) -> SignedRequest:
        """The request :meth:`o2lite.Trader.register_referer` would send."""
        return self.prepare(self.plan_register_referer(to, market))

    def withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None, *,
                 nonce_kind: str = "sequential", lane: int = 0) -> SignedRequest:
        """The request :meth:`o2lite.Trader.withdraw` would send."""
        return self.prepare(self.plan_withdraw(asset, amount, to, nonce_kind=nonce_kind, lane=lane))

    def upgrade(self) -> SignedRequest:
        """The request :meth:`o2lite.Trader.upgrade` would send."""
        return self.prepare(self.plan_upgrade())

    def __repr__(self) -> str:
        return f"DryRunTrader(owner={self.owner.address!r}, trade_account_id={self.trade_account_id!r})"

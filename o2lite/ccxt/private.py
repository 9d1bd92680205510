"""The account's half of :class:`o2lite.ccxt.O2`: balance, orders, my trades, withdraw.

The account is found from the key on first need (never created here: use
``o2lite.Trader.setup_account`` or ``o2lite setup``); the first signing call opens a session
for every market (sequential nonces — the proven path — valid one day) and reopens it when it
nears its expiry or the exchange says it is gone. O2 keeps one session per account, so the
session is opened under a lock and shared by every ``O2`` of that account in the process
(:mod:`o2lite.ccxt.sessions`): threads sharing one ``O2``, or each with its own, never replace
each other's session. Reads map their failures as reads; signed requests as ``private``, so a
lost answer is :class:`O2AmbiguousSubmission`, never a ``NetworkError`` (see
:mod:`o2lite.ccxt.errors`).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, TypeVar

from ..client import Client
from .._hex import b256_hex
from ..errors import O2Error, SessionInvalid, ValidationError
from ..market import Market
from ..models import Order
from ..order_building import OrderTypeName
from ..signing import Wallet
from ..trader import Trader
from .errors import (ArgumentsRequired, AuthenticationError, BadRequest, BaseError, InvalidOrder, NetworkError,
                     NotSupported, O2AmbiguousSubmission, OrderNotFound, map_error)
from .order_args import (KNOWN_PARAMS, Num, limit_order_type, order_amount, order_price, protective_price,
                         to_decimal)
from .paging import back_to, scan_size, window
from . import sessions
from .parsers import iso8601, parse_balance, parse_order, parse_trade

__all__ = ["PrivateMethods"]

T = TypeVar("T")
_SESSION_MARGIN = 60  # reopen a session that expires within this many seconds
_DEFAULT_ORDERS = 1000  # orders read per market without a limit (pages stop early when fewer exist)
_MAX_LIMIT = 10_000  # the largest limit a paged read accepts


def _canceled(order_id: str, symbol: str, tx_id: str) -> Dict[str, Any]:
    """A ccxt order that says only what a landed cancel proves: its id, symbol and status."""
    unknown = dict.fromkeys(("clientOrderId", "timestamp", "datetime", "lastTradeTimestamp", "lastUpdateTimestamp",
                             "type", "timeInForce", "postOnly", "side", "price", "triggerPrice", "stopPrice",
                             "amount", "filled", "remaining", "average", "cost", "fee"))
    return dict(unknown, id=order_id, symbol=symbol, status="canceled", reduceOnly=False, fees=[], trades=[],
                info={"tx_id": tx_id})


class PrivateMethods:
    """Account methods; needs the markets and ``_call`` of :class:`o2lite.ccxt.O2`."""

    client: Client
    markets: Dict[str, Dict[str, Any]]
    currencies: Dict[str, Dict[str, Any]]
    options: Dict[str, Any]
    _call: Callable[..., Any]
    _market: Callable[[str], Market]
    _selected: Callable[[Optional[str]], List[Market]]
    _best: Callable[[Market, str], Optional[Decimal]]
    _limit: Callable[[Optional[int], int, int], int]
    _since: Callable[[Any], Optional[int]]
    _no_params: Callable[..., Dict[str, Any]]
    load_markets: Callable[..., Dict[str, Dict[str, Any]]]

    def __init__(self, wallet: Optional[Wallet], trade_account_id: Optional[str]) -> None:
        self._wallet = wallet
        self._account_id = trade_account_id
        self._trader_obj: Optional[Trader] = None
        self._trader_lock = threading.Lock()

    # --- account and session ------------------------------------------------------------------

    def _trader(self) -> Trader:
        """The owner's Trader, its account found on first use (a read; one per ``O2``)."""
        if self._trader_obj is not None:
            return self._trader_obj
        if self._wallet is None:
            raise AuthenticationError("this call needs the account's key: O2({'privateKey': '0x…', …})")
        wallet = self._wallet
        with self._trader_lock:
            if self._trader_obj is not None:  # another thread found it meanwhile
                return self._trader_obj
            account = self._account_id
            if account is None:
                found = self._call("read", lambda: self.client.accounts.get(owner=wallet.address))
                if not found.exists:
                    raise AuthenticationError(f"no trade account for owner {wallet.address}: create one first "
                                              "(o2lite.Trader.setup_account() or `o2lite setup`)")
                account = found.trade_account_id
            self._trader_obj = self._call("read", lambda: Trader(self.client, wallet, trade_account_id=account))
            return self._trader_obj

    @property
    def trade_account_id(self) -> Optional[str]:
        """The trade account (``None`` until a private call found it, unless configured)."""
        return self._trader_obj.trade_account_id if self._trader_obj else self._account_id

    def _session_key(self, trader: Trader) -> sessions.SessionKey:
        return (self.client.transport.base_url, trader.trade_account_id or "", trader.owner.address.lower())

    def _trading(self) -> Trader:
        """The Trader with a live session over every market: the process's session of this
        account (:mod:`o2lite.ccxt.sessions`) when it covers them, else one opened here."""
        trader = self._trader()
        key = self._session_key(trader)
        with sessions.session_lock(key):
            self.load_markets()
            markets = list(self._selected(None))
            wanted = {m.contract_id for m in markets}
            session = sessions.current(key)  # the newest: any older one of this process is gone
            if (session is not None and session.expiry >= time.time() + _SESSION_MARGIN
                    and wanted <= set(session.contract_ids)):
                trader.session = session
                return trader
            try:
                sessions.keep(key, self._call("private", lambda: trader.open_session(markets)))
            except O2AmbiguousSubmission as exc:
                # only the session's registration is in doubt; the caller's request was never sent
                trader.session = None
                raise NetworkError("opening the trading session got no answer; nothing of this call was sent, "
                                   "so retrying is safe (it opens a fresh session)") from exc.__cause__
        return trader

    def _sign(self, operation: Callable[[Trader], T]) -> T:
        """Run a signed ``operation``; a session the exchange no longer knows is dropped, so the
        next call opens a fresh one (the refused request did not run)."""
        trader = self._trading()
        used = trader.session
        try:
            result: T = self._call("private", lambda: operation(trader))
            return result
        except AuthenticationError as exc:
            if isinstance(exc.__cause__, SessionInvalid):
                key = self._session_key(trader)
                with sessions.session_lock(key):
                    if trader.session is used:
                        trader.session = None
                    sessions.forget(key, used)
            raise

    # --- balance ------------------------------------------------------------------------------

    def fetch_balance(self, params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``GET /v1/balance`` for every asset of every market: ``free`` = unlocked (including
        the account's own balance), ``used`` = locked in orders."""
        self._no_params(params)
        self.load_markets()
        trader = self._trader()
        balances = self._call("read", trader.balances)
        natives = self.client.markets.list()  # the markets trader.balances took its assets from
        known = {symbol: b.raw for symbol, b in balances.items() if symbol.strip()}  # ccxt codes are not blank
        parsed: Dict[str, Any] = self._call("read", lambda: parse_balance(known, natives))
        return parsed

    # --- orders -------------------------------------------------------------------------------

    def create_order(self, symbol: str, type: str, side: str, amount: Num, price: Optional[Num] = None,
                     params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Place an order (``SettleBalance`` first unless ``params.settleFirst`` is False).

        ``type`` ``limit`` (``params.timeInForce`` GTC/PO/FOK, ``params.postOnly``) or
        ``market`` (FillOrKill at a protective price; see :mod:`o2lite.ccxt.order_args`).
        """
        extra = self._no_params(params, KNOWN_PARAMS)
        kind, side_name = str(type).lower(), str(side).lower()
        if side_name not in ("buy", "sell"):
            raise InvalidOrder(f"side must be 'buy' or 'sell', not {str(side)[:10]!r}")
        m = self._market(symbol)
        quantity = order_amount(amount, m)
        if kind == "limit":
            if price is None:
                raise ArgumentsRequired("a limit order needs a price")
            limit_price = order_price(price, m)
            order_type: OrderTypeName = limit_order_type(extra)
        elif kind == "market":
            if extra.get("timeInForce") not in (None, "FOK") or extra.get("postOnly"):
                raise InvalidOrder("a market order is sent as FillOrKill: timeInForce/postOnly do not apply")
            given = extra.get("maxPrice" if side_name == "buy" else "minPrice") is not None or price is not None
            best = None if given else self._best(m, side_name)
            limit_price, _ = protective_price(side_name, price, extra, m, best, self._slippage())
            order_type = "FillOrKill"
        else:
            raise NotSupported(f"O2 order types here are limit and market, not {str(type)[:20]!r}")
        settle_first = extra.get("settleFirst", True)
        if not isinstance(settle_first, bool):
            raise BadRequest("params.settleFirst must be True or False")
        result = self._sign(lambda t: t.place(m, "Buy" if side_name == "buy" else "Sell", str(limit_price),
                                              str(quantity), order_type, settle_first=settle_first))
        if not result.orders:
            unnamed = O2AmbiguousSubmission(f"the order landed (tx {result.tx_id}) but the answer named no order: "
                                            "find it with fetch_open_orders / fetch_orders before placing again")
            unnamed.transaction_id = result.tx_id
            raise unnamed
        try:
            parsed = parse_order(result.orders[-1], m)
        except O2Error as exc:  # landed, but the answer's order is unreadable here: as if unnamed
            unreadable = O2AmbiguousSubmission(f"the order landed (tx {result.tx_id}) but the answer's order is "
                                               f"unreadable ({exc}): find it with fetch_open_orders before "
                                               "placing again")
            unreadable.transaction_id = result.tx_id
            raise unreadable from exc
        if kind == "market":
            parsed["type"] = "market"
        return parsed

    def _slippage(self) -> Decimal:
        """``options["marketSlippage"]`` (checked here: scripts edit ``options`` directly)."""
        value = self.options.get("marketSlippage")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise BadRequest("options.marketSlippage must be a fraction in [0, 1), e.g. 0.05")
        return Decimal(repr(float(value)))

    def create_limit_order(self, symbol: str, side: str, amount: Num, price: Num,
                           params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "limit", side, amount, price, params)``."""
        return self.create_order(symbol, "limit", side, amount, price, params)

    def create_market_order(self, symbol: str, side: str, amount: Num, price: Optional[Num] = None,
                            params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "market", side, amount, price, params)`` (``price`` is the
        protective bound, see :meth:`create_order`)."""
        return self.create_order(symbol, "market", side, amount, price, params)

    def create_post_only_order(self, symbol: str, type: str, side: str, amount: Num, price: Optional[Num] = None,
                               params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order`` with ``params.postOnly`` set (O2's ``PostOnly``; limit orders only)."""
        if params is not None and not isinstance(params, Mapping):
            raise BadRequest("params must be a dict")
        return self.create_order(symbol, type, side, amount, price, {**(params or {}), "postOnly": True})

    def create_limit_buy_order(self, symbol: str, amount: Num, price: Num,
                               params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "limit", "buy", amount, price, params)``."""
        return self.create_order(symbol, "limit", "buy", amount, price, params)

    def create_limit_sell_order(self, symbol: str, amount: Num, price: Num,
                                params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "limit", "sell", amount, price, params)``."""
        return self.create_order(symbol, "limit", "sell", amount, price, params)

    def create_market_buy_order(self, symbol: str, amount: Num,
                                params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "market", "buy", amount, None, params)``."""
        return self.create_order(symbol, "market", "buy", amount, None, params)

    def create_market_sell_order(self, symbol: str, amount: Num,
                                 params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``create_order(symbol, "market", "sell", amount, None, params)``."""
        return self.create_order(symbol, "market", "sell", amount, None, params)

    @staticmethod
    def _order_id(id: Any) -> str:
        """An order id (``0x`` + 64 hex), checked before anything is read or signed."""
        try:
            return b256_hex(id, "order id")
        except ValidationError as exc:
            raise map_error(exc) from exc

    def _find_order(self, id: str, symbol: Optional[str]) -> Order:
        """``GET /v1/order`` in ``symbol``'s market, or in each market until found."""
        order_id = self._order_id(id)
        for m in self._selected(symbol):
            try:
                order: Order = self._call("read", lambda: self.client.orders.get(m, order_id))
                return order
            except OrderNotFound:
                continue
        raise OrderNotFound(f"no order {order_id} in {symbol or 'any market'}")

    def fetch_order(self, id: str, symbol: Optional[str] = None,
                    params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """One order by id (every market is searched when ``symbol`` is ``None``)."""
        self._no_params(params)
        order = self._find_order(id, symbol)
        market = order.market or self._market(order.market_id or symbol or "")  # the market it names
        parsed: Dict[str, Any] = self._call("read", lambda: parse_order(order, market))
        return parsed

    def cancel_order(self, id: str, symbol: Optional[str] = None,
                     params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Cancel one order, then read it back (if only that read fails, the landed cancel is
        returned as the id with status ``canceled``). Cancelling an order that is no longer
        open reverts on chain: an ``ExchangeError`` (definite; the nonce is spent)."""
        self._no_params(params)
        order_id = self._order_id(id)
        m = self._market(symbol) if symbol is not None else self._find_order_market(order_id)
        landed = self._sign(lambda t: t.cancel(order_id, m))
        try:
            return parse_order(self._call("read", lambda: self.client.orders.get(m, order_id)), m)
        except BaseError:  # the cancel landed: a failed read-back must not report it as failed
            return _canceled(order_id, m.pair, landed.tx_id)

    def _find_order_market(self, id: str) -> Market:
        order = self._find_order(id, None)
        return order.market or self._market(order.market_id or "")

    def cancel_all_orders(self, symbol: Optional[str] = None,
                          params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Cancel every open order (of ``symbol``, or of every market), five per request;
        returns those orders marked ``canceled``."""
        self._no_params(params)
        out: List[Dict[str, Any]] = []
        for m in self._selected(symbol):
            trader = self._trader()
            orders = self._call("read", lambda: trader.open_orders(m))
            if not orders:
                continue
            # parsed (and so checked to be of this market) before anything is signed
            parsed = self._call("read", lambda: [parse_order(o, m) for o in orders])
            batch = self._trading().batch()
            for order in orders:
                batch.cancel(order, m)
            self._sign(lambda t: batch.send())
            out.extend(dict(p, status="canceled") for p in parsed)
        return out

    def _orders(self, symbol: Optional[str], since: Optional[int], limit: Optional[int], is_open: Optional[bool],
                params: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        self._no_params(params)
        since, count = self._since(since), self._limit(limit, _DEFAULT_ORDERS, _MAX_LIMIT)
        account = self._trader().trade_account_id or ""
        out: List[Dict[str, Any]] = []
        for m in self._selected(symbol):
            read = self.client.orders.iter_orders
            out.extend(self._call("read", lambda: [parse_order(o, m) for o in back_to(
                read(m, account, is_open=is_open, max_items=scan_size(since, count)), since)]))
        return window(out, since, count)

    def fetch_open_orders(self, symbol: Optional[str] = None, since: Optional[int] = None,
                          limit: Optional[int] = None,
                          params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Open orders, oldest first (of ``symbol``, or of every market)."""
        return self._orders(symbol, since, limit, True, params)

    def fetch_closed_orders(self, symbol: Optional[str] = None, since: Optional[int] = None,
                            limit: Optional[int] = None,
                          params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Filled or cancelled orders, oldest first."""
        return self._orders(symbol, since, limit, False, params)

    def fetch_orders(self, symbol: Optional[str] = None, since: Optional[int] = None,
                     limit: Optional[int] = None, params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """All orders, oldest first."""
        return self._orders(symbol, since, limit, None, params)

    # --- my trades and withdrawals ------------------------------------------------------------

    def fetch_my_trades(self, symbol: Optional[str] = None, since: Optional[int] = None,
                        limit: Optional[int] = None,
                        params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """This account's trades, oldest first: its own ``side``, ``takerOrMaker``; a
        self-trade has ``side=None``. ``fee`` is ``None`` (O2 does not state it per trade)."""
        self._no_params(params)
        since, count = self._since(since), self._limit(limit, 50, _MAX_LIMIT)
        account = self._trader().trade_account_id or ""
        out: List[Dict[str, Any]] = []
        for m in self._selected(symbol):
            out.extend(self._call("read", lambda: [parse_trade(t, m, account) for t in back_to(
                self.client.markets.iter_account_trades(m, account, max_items=scan_size(since, count)), since)]))
        return window(out, since, count)

    def withdraw(self, code: str, amount: Num, address: str, tag: Optional[str] = None,
                 params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Withdraw ``amount`` of currency ``code`` from the trade account to ``address`` (a
        Fuel address, 0x + 64 hex), owner-signed. ``tag`` is not used by O2."""
        self._no_params(params)
        if tag is not None:
            raise NotSupported("O2 withdrawals take no tag/memo")
        self.load_markets()
        if not isinstance(code, str) or code not in self.currencies:
            raise BadRequest(f"unknown currency {str(code)[:20]!r}")
        try:
            human = to_decimal(amount, "amount")
        except InvalidOrder as exc:  # a withdrawal is no order: the same check, ccxt's class for it
            raise BadRequest(str(exc)) from None
        trader = self._trader()
        result = self._call("private", lambda: trader.withdraw(code, str(human), {"Address": address}))
        now = int(time.time() * 1000)
        return {"info": dict(result.raw), "id": result.tx_id, "txid": result.tx_id, "timestamp": now,
                "datetime": iso8601(now), "network": None, "address": address, "addressFrom": None,
                "addressTo": address, "tag": None, "tagFrom": None, "tagTo": None, "type": "withdrawal",
                "amount": float(human), "currency": code, "status": "ok", "updated": None, "fee": None,
                "comment": None, "internal": False}

    fetchBalance = fetch_balance
    createOrder = create_order
    createLimitOrder = create_limit_order
    createMarketOrder = create_market_order
    createPostOnlyOrder = create_post_only_order
    createLimitBuyOrder = create_limit_buy_order
    createLimitSellOrder = create_limit_sell_order
    createMarketBuyOrder = create_market_buy_order
    createMarketSellOrder = create_market_sell_order
    fetchOrder = fetch_order
    cancelOrder = cancel_order
    cancelAllOrders = cancel_all_orders
    fetchOpenOrders = fetch_open_orders
    fetchClosedOrders = fetch_closed_orders
    fetchOrders = fetch_orders
    fetchMyTrades = fetch_my_trades

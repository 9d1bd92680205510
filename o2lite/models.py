"""Frozen dataclasses for account and order answers, each parsed tolerantly with ``from_json``
(PROTOCOL §5). Market data (markets, depth, trades, bars, ticker) is in :mod:`o2lite.market_data`;
its classes are importable from here too (this module was their first home).

Chain integers are ``int``, ids lowercase ``0x…``, and the untouched JSON is kept on ``.raw``.
:class:`~o2lite.market.Market` and :class:`~o2lite.market.Asset` live in :mod:`o2lite.market`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple

from ._parse import (flag, hex_id, identity_id, mapping, opt_id, opt_int, req_int, require, side_of, text,
                     unwrap_list, unwrap_one)
from .errors import O2Error
from .market import Asset, Market, format_units
from .market_data import Bar, Depth, DepthLevel, MarketsInfo, MarketStats, Raw, Trade, raw_field

__all__ = [
    "MarketsInfo", "DepthLevel", "Depth", "Trade", "Bar", "Order", "OrdersPage", "AccountSession",
    "Account", "BookBalance", "Balance", "MarketStats", "TxResult", "CreatedAccount",
]

@dataclass(frozen=True)
class Order:
    """An order as the exchange reports it. ``is_open`` is ``not close``."""

    order_id: str
    side: str
    order_type: Any
    price: int
    quantity: int
    price_fill: int
    quantity_fill: int
    timestamp: Optional[int]
    close: bool
    partially_filled: bool
    cancel: bool
    market_id: Optional[str] = None
    raw: Raw = raw_field()
    market: Optional[Market] = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        """True until the order is filled or cancelled."""
        return not self.close

    @property
    def state(self) -> str:
        """``open``, ``filled``, ``cancelled`` or ``closed``."""
        if self.is_open:
            return "open"
        if self.cancel:
            return "cancelled"
        return "filled" if self.quantity_fill >= self.quantity else "closed"

    def _m(self) -> Market:
        if self.market is None:
            raise O2Error("this order does not know its market: use market.format_price(order.price)")
        return self.market

    @property
    def price_human(self) -> Decimal:
        """The limit price in quote units, e.g. ``Decimal('0.0125')``."""
        return self._m().format_price(self.price)

    @property
    def quantity_human(self) -> Decimal:
        """The quantity in base units."""
        return self._m().format_quantity(self.quantity)

    @property
    def filled_human(self) -> Decimal:
        """How much has filled, in base units."""
        return self._m().format_quantity(self.quantity_fill)

    @property
    def average_fill_price_human(self) -> Decimal:
        """The average fill price in quote units (0 before any fill)."""
        return self._m().format_price(self.price_fill)

    def in_market(self, market: Market) -> "Order":
        """This order with its market attached (for the ``*_human`` accessors)."""
        return replace(self, market=market)

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/order", market_id: Optional[str] = None,
                  markets: Optional[Mapping[str, Market]] = None) -> "Order":
        """Parse one order (``{order: {...}}`` wrappers are unwrapped); ``markets`` (by market
        id) attaches the order's market for the ``*_human`` accessors."""
        if isinstance(obj, Mapping) and isinstance(obj.get("order"), Mapping):
            obj = obj["order"]
        obj = unwrap_one(obj, where)
        own_market_id = opt_id(obj, "market_id", where) or market_id
        return cls(order_id=hex_id(require(obj, "order_id", where), "order_id", where),
                   side=side_of(require(obj, "side", where), where),
                   order_type=_order_type(obj.get("order_type"), where),
                   price=req_int(obj, "price", where), quantity=req_int(obj, "quantity", where),
                   price_fill=opt_int(obj, "price_fill", where) or 0,
                   quantity_fill=opt_int(obj, "quantity_fill", where) or 0,
                   timestamp=opt_int(obj, "timestamp", where), close=flag(obj, "close", where),
                   partially_filled=flag(obj, "partially_filled", where), cancel=flag(obj, "cancel", where),
                   market_id=own_market_id, raw=obj,
                   market=markets.get(own_market_id) if markets and own_market_id else None)


@dataclass(frozen=True)
class OrdersPage:
    """``GET /v1/orders``: the owner identity, market and one page of orders."""

    identity: Optional[str]
    market_id: Optional[str]
    orders: Tuple[Order, ...]
    raw: Raw = raw_field()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/orders", market: Optional[Market] = None) -> "OrdersPage":
        """Parse; the list may be bare or under ``orders``. ``market`` (the one asked for) is
        the page's market when the answer names none, and is attached to its orders."""
        market_id = opt_id(obj, "market_id", where) if isinstance(obj, Mapping) else None
        market_id = market_id or (market.market_id if market else None)
        markets = {market.market_id: market} if market else None
        orders = tuple(Order.from_json(o, where, market_id, markets)
                       for o in unwrap_list(obj, ("orders",), where))
        ident = identity_id(obj.get("identity"), where) if isinstance(obj, Mapping) else None
        return cls(ident, market_id, orders, raw=obj if isinstance(obj, Mapping) else {"orders": obj})


@dataclass(frozen=True)
class AccountSession:
    """The account's current session: its address, expiry (Unix s) and allowed contracts."""

    session_id: str
    expiry: int
    contract_ids: Tuple[str, ...]

    @classmethod
    def from_json(cls, obj: Any, where: str) -> "AccountSession":
        """Parse ``{session_id, expiry, contract_ids}``."""
        obj = mapping(obj, where, "a session")
        ids = obj.get("contract_ids") or []
        if not isinstance(ids, list):
            raise O2Error(f"{where}: session contract_ids is not a list", body=str(ids)[:200])
        return cls(session_id=identity_id(require(obj, "session_id", where), where, "session_id") or "",
                   expiry=req_int(obj, "expiry", where),
                   contract_ids=tuple(hex_id(c, "contract_ids", where) for c in ids))


@dataclass(frozen=True)
class Account:
    """``GET /v1/accounts``. ``exists`` is false when the exchange knows no such account."""

    trade_account_id: Optional[str]
    owner: Optional[str]
    nonce: Optional[int]
    session: Optional[AccountSession]
    raw: Raw = raw_field()

    @property
    def exists(self) -> bool:
        """True when the account was found."""
        return self.trade_account_id is not None

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/accounts") -> "Account":
        """Parse; ``trade_account_id: null`` means not found."""
        obj = unwrap_one(obj, where)
        account = mapping(obj.get("trade_account") or {}, where, "a trade_account object")
        session = obj.get("session")
        return cls(trade_account_id=opt_id(obj, "trade_account_id", where),
                   owner=identity_id(account.get("owner"), where, "owner"),
                   nonce=opt_int(account, "nonce", where),
                   session=AccountSession.from_json(session, where) if session else None,
                   raw=obj)


@dataclass(frozen=True)
class BookBalance:
    """Funds of one asset held by one order book: ``locked`` in orders, ``unlocked`` to settle."""

    locked: int
    unlocked: int
    fee: Optional[int] = None


@dataclass(frozen=True)
class Balance:
    """``GET /v1/balance``. ``total_unlocked`` already includes ``trading_account_balance``."""

    order_books: Dict[str, BookBalance]
    total_locked: int
    total_unlocked: int
    trading_account_balance: int
    raw: Raw = raw_field()
    asset: Optional[Asset] = field(default=None, repr=False, compare=False)

    def _human(self, amount: int) -> Decimal:
        if self.asset is None:
            raise O2Error("this balance does not know its asset: use format_units(amount, decimals)")
        return format_units(amount, self.asset.decimals)

    @property
    def total_human(self) -> Decimal:
        """Locked + unlocked, in the asset's units (e.g. ``Decimal('9975')`` USDC)."""
        return self._human(self.total)

    @property
    def locked_human(self) -> Decimal:
        """Locked in open orders, in the asset's units."""
        return self._human(self.total_locked)

    @property
    def unlocked_human(self) -> Decimal:
        """Free (unlocked, including the trade account's own balance), in the asset's units."""
        return self._human(self.total_unlocked)

    @property
    def total(self) -> int:
        """Everything the account holds of the asset: locked + unlocked."""
        return self.total_locked + self.total_unlocked

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/balance") -> "Balance":
        """Parse; book ids normalised, amounts as ``int``."""
        obj = unwrap_one(obj, where)
        books = {hex_id(k, "order_books", where): BookBalance(req_int(v, "locked", where),
                                                               req_int(v, "unlocked", where),
                                                               opt_int(v, "fee", where))
                 for k, v in mapping(obj.get("order_books") or {}, where, "an order_books object").items()}
        return cls(books, req_int(obj, "total_locked", where), req_int(obj, "total_unlocked", where),
                   opt_int(obj, "trading_account_balance", where) or 0, raw=obj)


@dataclass(frozen=True)
class TxResult:
    """A transaction endpoint's success: ``tx_id`` and, for actions, the created ``orders``."""

    tx_id: str
    orders: Tuple[Order, ...] = ()
    raw: Raw = raw_field()
    problems: Tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Any, where: str, markets: Optional[Mapping[str, Market]] = None) -> "TxResult":
        """Success means ``tx_id`` is present (PROTOCOL §3); without a readable one this raises.
        ``markets`` (by market id) is attached to the orders, as :meth:`Order.from_json` does.

        A readable ``tx_id`` means the transaction landed, so the rest is read tolerantly: an
        order that does not parse is left out and named in ``problems`` (its JSON stays on
        ``raw``) instead of hiding the fact that the request went through.
        """
        obj = mapping(obj, where)
        tx_id = text(obj, "tx_id", where, 130)
        if not tx_id.strip():
            raise O2Error(f"{where}: empty tx_id")
        orders, problems = [], []
        raw_orders = obj.get("orders") or []
        if not isinstance(raw_orders, list):
            problems.append("orders is not a list")
            raw_orders = []
        for index, raw in enumerate(raw_orders):
            try:
                orders.append(Order.from_json(raw, where, markets=markets))
            except O2Error as exc:
                problems.append(f"orders[{index}]: {exc.message}")
        return cls(tx_id, tuple(orders), raw=obj, problems=tuple(problems))


@dataclass(frozen=True)
class CreatedAccount:
    """``POST /v1/accounts``: the new (or existing) trade account and its nonce."""

    trade_account_id: str
    nonce: int
    raw: Raw = raw_field()

    @classmethod
    def from_json(cls, obj: Any, where: str = "POST /v1/accounts") -> "CreatedAccount":
        """Parse ``{trade_account_id, nonce}``."""
        obj = mapping(obj, where)
        return cls(hex_id(require(obj, "trade_account_id", where), "trade_account_id", where),
                   opt_int(obj, "nonce", where) or 0, raw=obj)


def _order_type(value: Any, where: str) -> Any:
    """An order type as sent (a name, or a one-key object); names beyond the six a client sends
    (``TurboSharedSpot``, …) are kept as their string (PROTOCOL §13)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 60:
        return value
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(next(iter(value)), str):
        return dict(value)
    raise O2Error(f"{where}: field 'order_type' is not an order type: {str(value)[:40]!r}")

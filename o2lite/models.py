"""Frozen dataclasses for read responses, each parsed tolerantly with ``from_json`` (PROTOCOL §5).

Chain integers are ``int``, ids lowercase ``0x…``, and the untouched JSON is kept on ``.raw``.
:class:`~o2lite.market.Market` and :class:`~o2lite.market.Asset` live in :mod:`o2lite.market`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from ._parse import (chain_int, first, flag, hex_id, identity_id, mapping, opt_id, opt_int, req_int, require,
                     side_of, text, unwrap_list, unwrap_one)
from .errors import O2Error
from .market import Asset, Market, format_units

__all__ = [
    "MarketsInfo", "DepthLevel", "Depth", "Trade", "Bar", "Order", "OrdersPage", "AccountSession",
    "Account", "BookBalance", "Balance", "MarketStats", "TxResult", "CreatedAccount",
]

Raw = Mapping[str, Any]


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class MarketsInfo:
    """``GET /v1/markets``: registry ids, chain id and the markets."""

    books_registry_id: Optional[str]
    accounts_registry_id: Optional[str]
    trade_account_oracle_id: Optional[str]
    chain_id: int
    base_asset_id: Optional[str]
    markets: Tuple[Market, ...]
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/markets") -> "MarketsInfo":
        """Parse; ``chain_id`` is hex only with a ``0x`` prefix, otherwise decimal."""
        obj = unwrap_one(obj, where)
        return cls(books_registry_id=opt_id(obj, "books_registry_id", where),
                   accounts_registry_id=opt_id(obj, "accounts_registry_id", where),
                   trade_account_oracle_id=opt_id(obj, "trade_account_oracle_id", where),
                   chain_id=chain_int(require(obj, "chain_id", where), "chain_id", where),
                   base_asset_id=opt_id(obj, "base_asset_id", where),
                   markets=tuple(Market.from_json(m, where) for m in unwrap_list(obj, ("markets",), where)),
                   raw=obj)


@dataclass(frozen=True)
class DepthLevel:
    """One price level: chain ``price`` and total ``quantity``."""

    price: int
    quantity: int

    @classmethod
    def from_json(cls, obj: Any, where: str) -> "DepthLevel":
        """Accepts ``{price, quantity}`` or ``[price, quantity]``."""
        if isinstance(obj, (list, tuple)):
            if len(obj) != 2:
                raise O2Error(f"{where}: a depth level must be [price, quantity]", body=str(obj)[:200])
            return cls(chain_int(obj[0], "price", where), chain_int(obj[1], "quantity", where))
        obj = mapping(obj, where, "a depth level")
        return cls(req_int(obj, "price", where), req_int(obj, "quantity", where))


@dataclass(frozen=True)
class Depth:
    """``GET /v1/depth``: ``buys`` best (highest) first, ``sells`` best (lowest) first."""

    market_id: Optional[str]
    buys: Tuple[DepthLevel, ...]
    sells: Tuple[DepthLevel, ...]
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/depth", limit: Optional[int] = None) -> "Depth":
        """Parse; the book may sit under ``orders``, ``view`` or at top level; sorted and
        truncated to ``limit`` locally (the server may ignore it)."""
        obj = unwrap_one(obj, where)
        book = mapping(obj.get("orders") or obj.get("view") or obj, where, "a depth book")
        sides = []
        for names in (("buys", "bids"), ("sells", "asks")):
            levels = first(book, names, where, [])
            if not isinstance(levels, list):
                raise O2Error(f"{where}: {names[0]} is not a list", body=str(levels)[:200])
            sides.append([DepthLevel.from_json(x, where) for x in levels])
        buys = sorted(sides[0], key=lambda lv: -lv.price)
        sells = sorted(sides[1], key=lambda lv: lv.price)
        if limit is not None:
            buys, sells = buys[:limit], sells[:limit]
        return cls(opt_id(obj, "market_id", where), tuple(buys), tuple(sells), raw=obj)


@dataclass(frozen=True)
class Trade:
    """A fill. ``side`` is the maker's side; ``timestamp`` in milliseconds."""

    trade_id: str
    side: str
    price: int
    quantity: int
    total: Optional[int]
    timestamp: int
    maker: Optional[str] = None
    taker: Optional[str] = None
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/trades") -> "Trade":
        """Parse one trade (``maker``/``taker`` may be identities or bare ids)."""
        obj = mapping(obj, where, "a trade")
        return cls(trade_id=text(obj, "trade_id", where, 100),
                   side=side_of(require(obj, "side", where), where),
                   price=req_int(obj, "price", where), quantity=req_int(obj, "quantity", where),
                   total=opt_int(obj, "total", where), timestamp=req_int(obj, "timestamp", where),
                   maker=identity_id(obj.get("maker"), where, "maker"),
                   taker=identity_id(obj.get("taker"), where, "taker"), raw=obj)


@dataclass(frozen=True)
class Bar:
    """A candle; ``time`` in milliseconds, prices and volume as chain integers."""

    time: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/bars") -> "Bar":
        """Parse; ``time`` or ``timestamp``; ``volume`` or ``buy_volume + sell_volume``."""
        obj = mapping(obj, where, "a bar")
        if obj.get("volume") is not None:
            volume = req_int(obj, "volume", where)
        else:
            volume = req_int(obj, "buy_volume", where) + req_int(obj, "sell_volume", where)
        return cls(time=chain_int(first(obj, ("time", "timestamp"), where), "time", where),
                   open=req_int(obj, "open", where), high=req_int(obj, "high", where),
                   low=req_int(obj, "low", where), close=req_int(obj, "close", where), volume=volume,
                   raw=obj)


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
    raw: Raw = _raw()
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
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/orders") -> "OrdersPage":
        """Parse; the list may be bare or under ``orders``."""
        market = opt_id(obj, "market_id", where) if isinstance(obj, Mapping) else None
        orders = tuple(Order.from_json(o, where, market) for o in unwrap_list(obj, ("orders",), where))
        ident = identity_id(obj.get("identity"), where) if isinstance(obj, Mapping) else None
        return cls(ident, market, orders, raw=obj if isinstance(obj, Mapping) else {"orders": obj})


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
    raw: Raw = _raw()

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
    raw: Raw = _raw()
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
class MarketStats:
    """Ticker or summary of a market. Field names differ by source, so the common ones are
    read from any of their spellings and everything else stays on ``.raw``."""

    market_id: Optional[str]
    last_price: Optional[int]
    volume_24h: Optional[int]
    high_24h: Optional[int]
    low_24h: Optional[int]
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str) -> "MarketStats":
        """Parse an object or a one-item list."""
        obj = unwrap_one(obj, where)

        def pick(*names: str) -> Optional[int]:
            value = first(obj, names, where, None)
            return None if value is None else chain_int(value, names[0], where)

        return cls(opt_id(obj, "market_id", where), pick("last_price", "price", "last"),
                   pick("volume_24h", "base_volume", "volume"), pick("high_24h", "high_price", "high"),
                   pick("low_24h", "low_price", "low"), raw=obj)


@dataclass(frozen=True)
class TxResult:
    """A transaction endpoint's success: ``tx_id`` and, for actions, the created ``orders``."""

    tx_id: str
    orders: Tuple[Order, ...] = ()
    raw: Raw = _raw()
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
    raw: Raw = _raw()

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


def parse_list(cls: Any, body: Any, keys: Tuple[str, ...], where: str) -> List[Any]:
    """``[cls.from_json(x) for x in list]`` where the list may be bare or wrapped."""
    return [cls.from_json(x, where) for x in unwrap_list(body, keys, where)]

"""Frozen dataclasses for read responses, each parsed tolerantly with ``from_json`` (PROTOCOL §5).

Chain integers are ``int``, ids lowercase ``0x…``, and the untouched JSON is kept on ``.raw``.
:class:`~o2lite.market.Market` and :class:`~o2lite.market.Asset` live in :mod:`o2lite.market`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._parse import (chain_int, first, hex_id, identity_id, opt_id, opt_int, req_int, require,
                     unwrap_list, unwrap_one)
from .errors import O2Error
from .market import Market

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
        if isinstance(obj, (list, tuple)) and len(obj) >= 2:
            return cls(chain_int(obj[0], "price", where), chain_int(obj[1], "quantity", where))
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
        book = obj.get("orders") or obj.get("view") or obj
        if not isinstance(book, Mapping):
            raise O2Error(f"{where}: depth book is not an object", body=str(obj)[:200])
        buys = sorted((DepthLevel.from_json(x, where) for x in first(book, ("buys", "bids"), where, [])),
                      key=lambda lv: -lv.price)
        sells = sorted((DepthLevel.from_json(x, where) for x in first(book, ("sells", "asks"), where, [])),
                       key=lambda lv: lv.price)
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
        return cls(trade_id=str(require(obj, "trade_id", where)),
                   side=str(require(obj, "side", where)).capitalize(),
                   price=req_int(obj, "price", where), quantity=req_int(obj, "quantity", where),
                   total=opt_int(obj, "total", where), timestamp=req_int(obj, "timestamp", where),
                   maker=identity_id(obj.get("maker"), where), taker=identity_id(obj.get("taker"), where),
                   raw=obj)


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

    @property
    def is_open(self) -> bool:
        """True until the order is filled or cancelled."""
        return not self.close

    @classmethod
    def from_json(cls, obj: Any, where: str = "GET /v1/order", market_id: Optional[str] = None) -> "Order":
        """Parse one order (``{order: {...}}`` wrappers are unwrapped)."""
        if isinstance(obj, Mapping) and isinstance(obj.get("order"), Mapping):
            obj = obj["order"]
        obj = unwrap_one(obj, where)
        return cls(order_id=hex_id(require(obj, "order_id", where), "order_id", where),
                   side=str(require(obj, "side", where)).capitalize(),
                   order_type=obj.get("order_type"),
                   price=req_int(obj, "price", where), quantity=req_int(obj, "quantity", where),
                   price_fill=opt_int(obj, "price_fill", where) or 0,
                   quantity_fill=opt_int(obj, "quantity_fill", where) or 0,
                   timestamp=opt_int(obj, "timestamp", where), close=bool(obj.get("close")),
                   partially_filled=bool(obj.get("partially_filled")), cancel=bool(obj.get("cancel")),
                   market_id=opt_id(obj, "market_id", where) or market_id, raw=obj)


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
        return cls(session_id=identity_id(require(obj, "session_id", where), where) or "",
                   expiry=req_int(obj, "expiry", where),
                   contract_ids=tuple(hex_id(c, "contract_ids", where) for c in obj.get("contract_ids") or []))


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
        account = obj.get("trade_account") or {}
        session = obj.get("session")
        return cls(trade_account_id=opt_id(obj, "trade_account_id", where),
                   owner=identity_id(account.get("owner"), where),
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
                 for k, v in (obj.get("order_books") or {}).items()}
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
                   pick("volume_24h", "base_volume", "volume"), pick("high_24h", "high"),
                   pick("low_24h", "low"), raw=obj)


@dataclass(frozen=True)
class TxResult:
    """A transaction endpoint's success: ``tx_id`` and, for actions, the created ``orders``."""

    tx_id: str
    orders: Tuple[Order, ...] = ()
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str) -> "TxResult":
        """Success means ``tx_id`` is present (PROTOCOL §3); anything else raises."""
        if not isinstance(obj, Mapping) or not obj.get("tx_id"):
            raise O2Error(f"{where}: no tx_id in the response", body=str(obj)[:200])
        orders = tuple(Order.from_json(o, where) for o in obj.get("orders") or [])
        return cls(str(obj["tx_id"]), orders, raw=obj)


@dataclass(frozen=True)
class CreatedAccount:
    """``POST /v1/accounts``: the new (or existing) trade account and its nonce."""

    trade_account_id: str
    nonce: int
    raw: Raw = _raw()

    @classmethod
    def from_json(cls, obj: Any, where: str = "POST /v1/accounts") -> "CreatedAccount":
        """Parse ``{trade_account_id, nonce}``."""
        return cls(hex_id(require(obj, "trade_account_id", where), "trade_account_id", where),
                   opt_int(obj, "nonce", where) or 0, raw=obj)


def decimal_or_none(value: Any) -> Optional[Decimal]:
    """A Decimal from a human-scale number (aggregated endpoints), or ``None``."""
    return None if value is None else Decimal(str(value))


def parse_list(cls: Any, body: Any, keys: Tuple[str, ...], where: str) -> List[Any]:
    """``[cls.from_json(x) for x in list]`` where the list may be bare or wrapped."""
    return [cls.from_json(x, where) for x in unwrap_list(body, keys, where)]

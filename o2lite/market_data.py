"""Frozen dataclasses for market data — markets, depth, trades, bars, ticker/summary — each
parsed tolerantly with ``from_json`` (PROTOCOL §5). Account and order answers are in
:mod:`o2lite.models`.

Chain integers are ``int``, ids lowercase ``0x…``, and the untouched JSON is kept on ``.raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, List, Optional, Tuple

from ._parse import (chain_int, first, identity_id, mapping, opt_id, opt_int, req_int, require, side_of, text,
                     unwrap_list, unwrap_one)
from .errors import O2Error
from .market import Market

__all__ = ["MarketsInfo", "DepthLevel", "Depth", "Trade", "Bar", "MarketStats", "Raw", "raw_field", "parse_list"]

Raw = Mapping[str, Any]


def raw_field() -> Any:
    """The ``.raw`` field of every model: the answer's JSON, left out of ``repr`` and ``==``."""
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
    raw: Raw = raw_field()

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
    raw: Raw = raw_field()

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
    raw: Raw = raw_field()

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
    raw: Raw = raw_field()

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
class MarketStats:
    """Ticker or summary of a market. Field names differ by source, so the common ones are
    read from any of their spellings and everything else stays on ``.raw``."""

    market_id: Optional[str]
    last_price: Optional[int]
    volume_24h: Optional[int]
    high_24h: Optional[int]
    low_24h: Optional[int]
    raw: Raw = raw_field()

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


def parse_list(cls: Any, body: Any, keys: Tuple[str, ...], where: str) -> List[Any]:
    """``[cls.from_json(x) for x in list]`` where the list may be bare or wrapped."""
    return [cls.from_json(x, where) for x in unwrap_list(body, keys, where)]

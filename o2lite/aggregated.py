"""CoinGecko/CMC-style aggregated endpoints: human-scale numbers, pairs like ``FUEL_USDC``.

Shapes differ by source (a map keyed by pair/symbol, or a list), so each parser accepts both
and keeps the untouched JSON on ``.raw``. Numbers are :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, List, Mapping, Optional, Tuple

from ._hex import to_int
from ._parse import decimal_of, first
from .errors import O2Error, ValidationError
from .transport import Transport

__all__ = ["Aggregated", "AggregatedAsset", "AggregatedBook", "AggregatedTicker", "AggregatedTrade"]

_PAIR = re.compile(r"^[A-Za-z0-9.]+_[A-Za-z0-9.]+$")


def _entries(body: Any, key_name: str, where: str) -> List[Mapping[str, Any]]:
    """A list of objects from a list, or from a map ``{key: {...}}`` (the key kept as ``key_name``)."""
    if isinstance(body, Mapping):
        for wrapper in ("data", "tickers", "assets", "trades", "summary"):
            if isinstance(body.get(wrapper), (list, Mapping)):
                return _entries(body[wrapper], key_name, where)
        return [dict(v, **{key_name: k}) if isinstance(v, Mapping) else {key_name: k, "value": v}
                for k, v in body.items()]
    if isinstance(body, list):
        return [x for x in body if isinstance(x, Mapping)]
    raise O2Error(f"{where}: expected a list or an object", body=str(body)[:200])


def _dec(obj: Mapping[str, Any], names: Tuple[str, ...], where: str) -> Optional[Decimal]:
    value = first(obj, names, where, None)
    return None if value is None else decimal_of(value, names[0], where)


@dataclass(frozen=True)
class AggregatedAsset:
    """An asset of ``/v1/aggregated/assets``."""

    symbol: str
    name: Optional[str]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AggregatedTicker:
    """One pair of ``/v1/aggregated/ticker`` or ``/summary``."""

    pair: str
    last_price: Optional[Decimal]
    base_volume: Optional[Decimal]
    quote_volume: Optional[Decimal]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AggregatedTrade:
    """A trade of ``/v1/aggregated/trades``."""

    trade_id: str
    price: Optional[Decimal]
    base_volume: Optional[Decimal]
    timestamp: Optional[int]
    side: Optional[str]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AggregatedBook:
    """``/v1/aggregated/orderbook``: ``bids``/``asks`` as ``(price, quantity)`` Decimals."""

    bids: Tuple[Tuple[Decimal, Decimal], ...]
    asks: Tuple[Tuple[Decimal, Decimal], ...]
    timestamp: Optional[int]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _pair(value: str) -> str:
    text = str(value).strip().replace("/", "_")
    if not _PAIR.match(text):
        raise ValidationError(f"market pair must look like FUEL_USDC, got {value!r}")
    return text.upper()


def _levels(raw: Any, where: str) -> Tuple[Tuple[Decimal, Decimal], ...]:
    out = []
    for level in raw or []:
        if isinstance(level, Mapping):
            out.append((decimal_of(first(level, ("price",), where), "price", where),
                        decimal_of(first(level, ("quantity", "amount", "size"), where), "quantity", where)))
        else:
            out.append((decimal_of(level[0], "price", where), decimal_of(level[1], "quantity", where)))
    return tuple(out)


class Aggregated:
    """``/v1/aggregated/*``: assets, orderbook, summary, ticker, trades (5 requests/s per IP)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def assets(self) -> List[AggregatedAsset]:
        """``GET /v1/aggregated/assets``."""
        where = "GET /v1/aggregated/assets"
        return [AggregatedAsset(str(first(e, ("symbol", "unified_cryptoasset_id", "id"), where)),
                                e.get("name"), raw=e)
                for e in _entries(self._t.request("GET", "/v1/aggregated/assets"), "symbol", where)]

    def orderbook(self, market_pair: str, depth: int = 0, level: int = 2) -> AggregatedBook:
        """``GET /v1/aggregated/orderbook?market_pair&depth&level`` (depth ≤ 500, 0 = full; level 2|3)."""
        if level not in (2, 3):
            raise ValidationError("level must be 2 or 3")
        depth = to_int(depth, "depth", high=500)
        where = "GET /v1/aggregated/orderbook"
        body = self._t.request("GET", "/v1/aggregated/orderbook",
                               params={"market_pair": _pair(market_pair), "depth": str(depth), "level": str(level)})
        if not isinstance(body, Mapping):
            raise O2Error(f"{where}: expected an object", body=str(body)[:200])
        ts = body.get("timestamp")
        return AggregatedBook(_levels(body.get("bids"), where), _levels(body.get("asks"), where),
                              None if ts is None else int(ts), raw=body)

    def _tickers(self, path: str) -> List[AggregatedTicker]:
        where = f"GET {path}"
        return [AggregatedTicker(str(first(e, ("ticker_id", "trading_pairs", "pair", "market_pair"), where)),
                                 _dec(e, ("last_price", "price"), where),
                                 _dec(e, ("base_volume", "base_volume_24h"), where),
                                 _dec(e, ("target_volume", "quote_volume", "quote_volume_24h"), where), raw=e)
                for e in _entries(self._t.request("GET", path), "ticker_id", where)]

    def summary(self) -> List[AggregatedTicker]:
        """``GET /v1/aggregated/summary``."""
        return self._tickers("/v1/aggregated/summary")

    def ticker(self) -> List[AggregatedTicker]:
        """``GET /v1/aggregated/ticker``."""
        return self._tickers("/v1/aggregated/ticker")

    def trades(self, market_pair: str) -> List[AggregatedTrade]:
        """``GET /v1/aggregated/trades?market_pair``."""
        where = "GET /v1/aggregated/trades"
        body = self._t.request("GET", "/v1/aggregated/trades", params={"market_pair": _pair(market_pair)})
        out = []
        for e in _entries(body, "trade_id", where):
            ts = first(e, ("timestamp", "trade_timestamp"), where, None)
            out.append(AggregatedTrade(str(first(e, ("trade_id", "id"), where)), _dec(e, ("price",), where),
                                       _dec(e, ("base_volume", "quantity"), where),
                                       None if ts is None else int(ts), e.get("type") or e.get("side"), raw=e))
        return out

"""CoinGecko/CMC-style aggregated endpoints: human-scale numbers, pairs like ``FUEL_USDC``.

Shapes differ by source (a map keyed by pair/symbol, or a list), so each parser accepts both
and keeps the untouched JSON on ``.raw``. Numbers are :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, List, Optional, Tuple

from ._hex import to_int
from ._parse import chain_int, decimal_of, first, mapping
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
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError(f"market pair must look like FUEL_USDC, got {str(value)[:40]!r}")
    text = value.strip().replace("/", "_")
    if not _PAIR.match(text):
        raise ValidationError(f"market pair must look like FUEL_USDC, got {value!r}")
    return text.upper()


def _levels(raw: Any, where: str) -> Tuple[Tuple[Decimal, Decimal], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise O2Error(f"{where}: price levels are not a list", body=str(raw)[:200])
    out = []
    for level in raw:
        if isinstance(level, Mapping):
            out.append((decimal_of(first(level, ("price",), where), "price", where),
                        decimal_of(first(level, ("quantity", "amount", "size"), where), "quantity", where)))
        elif isinstance(level, list) and len(level) == 2:
            out.append((decimal_of(level[0], "price", where), decimal_of(level[1], "quantity", where)))
        else:
            raise O2Error(f"{where}: a price level must be [price, quantity]", body=str(level)[:200])
    return tuple(out)


def _ms(value: Any, where: str) -> Optional[int]:
    return None if value is None else chain_int(value, "timestamp", where)


class Aggregated:
    """``/v1/aggregated/*``: assets, orderbook, summary, ticker, trades (5 requests/s per IP)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def assets(self) -> List[AggregatedAsset]:
        """``GET /v1/aggregated/assets``."""
        where = "GET /v1/aggregated/assets"
        def parse(body: Any) -> List[AggregatedAsset]:
            return [AggregatedAsset(str(first(e, ("symbol", "unified_cryptoasset_id", "id"), where))[:40],
                                    None if e.get("name") is None else str(e["name"])[:100], raw=e)
                    for e in _entries(body, "symbol", where)]
        return self._t.request("GET", "/v1/aggregated/assets", parse=parse)

    def orderbook(self, market_pair: str, depth: int = 0, level: int = 2) -> AggregatedBook:
        """``GET /v1/aggregated/orderbook?market_pair&depth&level`` (depth ≤ 500, 0 = full; level 2|3)."""
        if isinstance(level, bool) or level not in (2, 3):
            raise ValidationError("level must be 2 or 3")
        depth = to_int(depth, "depth", high=500)
        where = "GET /v1/aggregated/orderbook"
        def parse(body: Any) -> AggregatedBook:
            body = mapping(body, where)
            return AggregatedBook(_levels(body.get("bids"), where), _levels(body.get("asks"), where),
                                  _ms(body.get("timestamp"), where), raw=body)
        return self._t.request("GET", "/v1/aggregated/orderbook", parse=parse,
                               params={"market_pair": _pair(market_pair), "depth": str(depth), "level": str(level)})

    def _tickers(self, path: str) -> List[AggregatedTicker]:
        where = f"GET {path}"
        def parse(body: Any) -> List[AggregatedTicker]:
            return [AggregatedTicker(str(first(e, ("ticker_id", "trading_pairs", "pair", "market_pair"), where))[:60],
                                     _dec(e, ("last_price", "price"), where),
                                     _dec(e, ("base_volume", "base_volume_24h"), where),
                                     _dec(e, ("target_volume", "quote_volume", "quote_volume_24h"), where), raw=e)
                    for e in _entries(body, "ticker_id", where)]
        return self._t.request("GET", path, parse=parse)

    def summary(self) -> List[AggregatedTicker]:
        """``GET /v1/aggregated/summary``."""
        return self._tickers("/v1/aggregated/summary")

    def ticker(self) -> List[AggregatedTicker]:
        """``GET /v1/aggregated/ticker``."""
        return self._tickers("/v1/aggregated/ticker")

    def trades(self, market_pair: str) -> List[AggregatedTrade]:
        """``GET /v1/aggregated/trades?market_pair``."""
        where = "GET /v1/aggregated/trades"
        def parse(body: Any) -> List[AggregatedTrade]:
            out = []
            for e in _entries(body, "trade_id", where):
                side = first(e, ("trade_type", "type", "side"), where, None)
                out.append(AggregatedTrade(str(first(e, ("trade_id", "id"), where))[:100], _dec(e, ("price",), where),
                                           _dec(e, ("base_volume", "quantity"), where),
                                           _ms(first(e, ("timestamp", "trade_timestamp"), where, None), where),
                                           None if side is None else str(side)[:10].lower(), raw=e))
            return out
        return self._t.request("GET", "/v1/aggregated/trades", params={"market_pair": _pair(market_pair)}, parse=parse)

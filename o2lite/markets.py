"""Market data: markets, summary, ticker, depth, trades, bars (PROTOCOL §5, Markets)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from ._hex import b256_hex, to_int
from ._paging import iter_keyset
from .errors import ValidationError
from .market import Market
from .market_data import Bar, Depth, MarketsInfo, MarketStats, Trade, parse_list
from .transport import Transport

__all__ = ["Markets", "RESOLUTIONS"]

#: Bar resolutions the exchange accepts (PROTOCOL §5).
RESOLUTIONS = ("1s", "1m", "2m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
               "1d", "3d", "1w", "1M", "3M")
MAX_TRADES = 50  # trades `count` limit (PROTOCOL §4)
MAX_BARS = 5000  # bars per request (PROTOCOL §4)

MarketRef = Union[str, Market]
TimeBound = Union[int, datetime]


def ms_of(value: TimeBound, what: str) -> int:
    """Milliseconds since the epoch from an ``int`` or a ``datetime`` (naive means UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    return to_int(value, what, high=2**63 - 1)


_ms = ms_of


def _direction(value: str) -> str:
    if not isinstance(value, str) or value not in ("asc", "desc"):
        raise ValidationError("direction must be 'asc' or 'desc'")
    return value


def _count(value: int, limit: int) -> int:
    return to_int(value, "count", low=1, high=limit)


class Markets:
    """Read-only market endpoints. Markets are fetched once and cached; ``refresh()`` re-reads.

    A market can be named by pair (``"FUEL/USDC"``, case-insensitive), market id or contract id.
    """

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._info: Optional[MarketsInfo] = None
        self._by_id: Optional[Tuple[MarketsInfo, Mapping[str, Market]]] = None
        self._lock = threading.Lock()

    def info(self, *, refresh: bool = False) -> MarketsInfo:
        """``GET /v1/markets`` (cached): registry ids, ``chain_id`` and every market.

        Returns:
            MarketsInfo. Raises O2Error on a failed or malformed response.
        """
        cached = self._info
        if cached is not None and not refresh:
            return cached  # no lock on the hot path: replacing the reference is atomic
        with self._lock:
            if self._info is None or refresh:
                self._info = self._t.request("GET", "/v1/markets", parse=MarketsInfo.from_json)
            return self._info

    def refresh(self) -> MarketsInfo:
        """Re-read ``GET /v1/markets``."""
        return self.info(refresh=True)

    def list(self) -> List[Market]:
        """Every market of ``GET /v1/markets``."""
        return list(self.info().markets)

    def by_id(self) -> Mapping[str, Market]:
        """Every market keyed by market id (built once per ``GET /v1/markets`` answer)."""
        info = self.info()
        cached = self._by_id
        if cached is None or cached[0] is not info:
            cached = self._by_id = (info, MappingProxyType({m.market_id: m for m in info.markets}))
        return cached[1]

    def get(self, ref: MarketRef) -> Market:
        """Find a market by pair name, market id or contract id.

        Raises:
            ValidationError: no market matches (checked locally, after one fetch).
        """
        if isinstance(ref, Market):
            return ref
        if not isinstance(ref, str) or len(ref) > 200:
            raise ValidationError(f"a market is a pair like FUEL/USDC, a 0x id or a Market, not {type(ref).__name__}")
        key = ref.strip()
        markets = self.info().markets
        if "/" in key:
            wanted = key.upper()
            for market in markets:
                if market.pair.upper() == wanted:
                    return market
        else:
            try:
                wanted_id = b256_hex(key, "market id")
            except ValidationError:
                raise ValidationError(f"unknown market {key!r}: use a pair like FUEL/USDC or a 0x id") from None
            found = self.by_id().get(wanted_id)
            if found is not None:
                return found
            for market in markets:
                if wanted_id == market.contract_id:
                    return market
        pairs = ", ".join(m.pair for m in markets) or "none"
        raise ValidationError(f"unknown market {key!r} (known: {pairs})")

    def _id(self, ref: MarketRef) -> str:
        return self.get(ref).market_id

    def summary(self, market: MarketRef) -> MarketStats:
        """``GET /v1/markets/summary?market_id`` (shape disputed: object or one-item list)."""
        where = "GET /v1/markets/summary"
        return self._t.request("GET", "/v1/markets/summary", params={"market_id": self._id(market)},
                               parse=lambda body: MarketStats.from_json(body, where))

    def ticker(self, market: MarketRef) -> MarketStats:
        """``GET /v1/markets/ticker?market_id``."""
        where = "GET /v1/markets/ticker"
        return self._t.request("GET", "/v1/markets/ticker", params={"market_id": self._id(market)},
                               parse=lambda body: MarketStats.from_json(body, where))

    def depth(self, market: MarketRef, precision: int = 1, limit: Optional[int] = None) -> Depth:
        """``GET /v1/depth?market_id&precision[&limit]``.

        Args:
            precision: user-facing level 1–18, sent as ``10**level``.
            limit: levels per side; also applied locally (the server may ignore it).
        """
        level = to_int(precision, "precision level", low=1, high=18)
        if limit is not None:
            limit = to_int(limit, "limit", low=1, high=10_000)
        return self._t.request("GET", "/v1/depth", params={"market_id": self._id(market),
                                                         "precision": str(10 ** level), "limit": limit},
                               parse=lambda body: Depth.from_json(body, "GET /v1/depth", limit=limit))

    def trades(self, market: MarketRef, *, count: int = MAX_TRADES, direction: str = "desc",
               start_timestamp: Optional[int] = None, start_trade_id: Optional[str] = None) -> List[Trade]:
        """``GET /v1/trades?market_id&direction&count[&start_timestamp&start_trade_id]``: one page.

        The cursor is both ``start_timestamp`` and ``start_trade_id`` or neither.
        """
        params = self._trade_params(market, count, direction, start_timestamp, start_trade_id)
        return self._t.request("GET", "/v1/trades", params=params,
                               parse=lambda body: parse_list(Trade, body, ("trades",), "GET /v1/trades"))

    def account_trades(self, market: MarketRef, trade_account_id: str, *, count: int = MAX_TRADES,
                       direction: str = "desc", start_timestamp: Optional[int] = None,
                       start_trade_id: Optional[str] = None) -> List[Trade]:
        """``GET /v1/trades_by_account?market_id&contract&direction&count[&cursor]``: one page."""
        params = self._trade_params(market, count, direction, start_timestamp, start_trade_id)
        params["contract"] = b256_hex(trade_account_id, "trade_account_id")
        return self._t.request("GET", "/v1/trades_by_account", params=params, parse=lambda body: parse_list(
            Trade, body, ("trades",), "GET /v1/trades_by_account"))

    def _trade_params(self, market: MarketRef, count: int, direction: str, start_timestamp: Any,
                      start_trade_id: Any) -> Dict[str, Any]:
        if (start_timestamp is None) != (start_trade_id is None):
            raise ValidationError("give both start_timestamp and start_trade_id, or neither")
        if start_trade_id is not None and (not isinstance(start_trade_id, (str, int)) or isinstance(start_trade_id, bool)
                                           or not 0 < len(str(start_trade_id)) <= 100):
            raise ValidationError("start_trade_id must be a trade id (text of at most 100 characters)")
        return {"market_id": self._id(market), "direction": _direction(direction),
                "count": str(_count(count, MAX_TRADES)),
                "start_timestamp": None if start_timestamp is None else str(_ms(start_timestamp, "start_timestamp")),
                "start_trade_id": None if start_trade_id is None else str(start_trade_id)}

    def iter_trades(self, market: MarketRef, *, direction: str = "desc", page_size: int = MAX_TRADES,
                    max_items: Optional[int] = None) -> Iterator[Trade]:
        """Every trade, following the keyset cursor (timestamp + id of the last item)."""
        def page(ts: Optional[int], tid: Optional[str]) -> List[Trade]:
            return self.trades(market, count=page_size, direction=direction, start_timestamp=ts,
                               start_trade_id=tid)
        return iter_keyset(page, page_size, max_items, lambda t: (t.timestamp, t.trade_id))

    def iter_account_trades(self, market: MarketRef, trade_account_id: str, *, direction: str = "desc",
                            page_size: int = MAX_TRADES, max_items: Optional[int] = None) -> Iterator[Trade]:
        """Every trade of one account, following the keyset cursor."""
        def page(ts: Optional[int], tid: Optional[str]) -> List[Trade]:
            return self.account_trades(market, trade_account_id, count=page_size, direction=direction,
                                       start_timestamp=ts, start_trade_id=tid)
        return iter_keyset(page, page_size, max_items, lambda t: (t.timestamp, t.trade_id))

    def bars(self, market: MarketRef, resolution: str, start: TimeBound, end: TimeBound) -> List[Bar]:
        """``GET /v1/bars?market_id&from&to&resolution`` with millisecond bounds.

        ``start``/``end`` are ms integers or ``datetime`` (naive means UTC). At most 5000 bars
        come back per request.
        """
        if not isinstance(resolution, str) or resolution not in RESOLUTIONS:
            raise ValidationError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        start_ms, end_ms = _ms(start, "start"), _ms(end, "end")
        if end_ms < start_ms:
            raise ValidationError("end is before start")
        return self._t.request("GET", "/v1/bars", params={"market_id": self._id(market), "from": str(start_ms),
                                                        "to": str(end_ms), "resolution": resolution},
                               parse=lambda body: parse_list(Bar, body, ("bars",), "GET /v1/bars"))

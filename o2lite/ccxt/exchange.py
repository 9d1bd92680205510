"""``O2``: a synchronous, ccxt-shaped exchange over o2lite — markets and public reads here, the
account's methods in :mod:`o2lite.ccxt.private`.

>>> ex = O2({"url": "http://127.0.0.1:8080"})   # no I/O until the first call
>>> ex.id, ex.precisionMode
('o2', 2)

Every method takes ccxt's positional arguments with ``params`` last, answers ccxt's unified
structures (floats in human units, exact O2 JSON in ``info``) and raises ccxt-style errors
(:mod:`o2lite.ccxt.errors`) with the o2lite exception as ``__cause__``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Dict, FrozenSet, List, Optional, TypeVar, Union

from ..client import Client
from .._hex import b256_hex
from ..errors import O2Error
from ..market import Market
from ..markets import RESOLUTIONS
from ..signing import Wallet
from .errors import BadRequest, BadSymbol, Context, NotSupported, map_error
from .normalise import human_ticker
from .paging import back_to, scan_size, window
from .parsers import iso8601, parse_market, parse_ohlcv, parse_order_book, parse_ticker, parse_trade, same_market
from .private import PrivateMethods

__all__ = ["O2", "DECIMAL_PLACES", "TIMEFRAMES"]

T = TypeVar("T")
DECIMAL_PLACES = 2  # ccxt's precisionMode constant: precision counts decimal places
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
            "M": 2_592_000_000}  # a month as 30 days: only sizes the request window
#: ccxt timeframe → O2 bar resolution (the same spelling; every O2 resolution, PROTOCOL §5).
TIMEFRAMES = {r: r for r in RESOLUTIONS}
MAX_BARS = 5000  # bars per request (PROTOCOL §4)
MAX_ITEMS = 10_000  # the largest limit a paged read accepts
_CONFIG_KEYS = frozenset({"url", "network", "privateKey", "tradeAccountId", "timeout", "options"})


def _options(options: Any) -> Dict[str, Any]:
    """``config["options"]`` with its defaults; only ``marketSlippage`` (a fraction in [0, 1))."""
    options = options or {}
    if not isinstance(options, Mapping) or set(options) - {"marketSlippage"}:
        raise BadRequest("options may hold marketSlippage only")
    merged = {"marketSlippage": 0.05, **options}
    slippage = merged["marketSlippage"]
    if isinstance(slippage, bool) or not isinstance(slippage, (int, float)) or not 0 <= slippage < 1:
        raise BadRequest("options.marketSlippage must be a fraction in [0, 1), e.g. 0.05")
    return merged


def _client(cfg: Mapping[str, Any]) -> Client:
    """The o2lite Client for ``url`` or ``network`` (default mainnet), ``timeout`` in ms."""
    if cfg.get("url") and cfg.get("network"):
        raise BadRequest("give url or network, not both")
    for key in ("url", "network"):  # an empty one (an unset variable) must not mean mainnet
        if key in cfg and cfg[key] is not None and not (isinstance(cfg[key], str) and cfg[key].strip()):
            raise BadRequest(f"config {key} must be a non-empty URL or network name (leave it out for mainnet)")
    timeout = cfg.get("timeout")
    if timeout is None:
        return Client(cfg.get("url") or cfg.get("network") or "mainnet")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600_000:
        raise BadRequest("timeout is milliseconds in (0, 600000]")
    return Client(cfg.get("url") or cfg.get("network") or "mainnet", timeout=timeout / 1000)


class O2(PrivateMethods):
    """The O2 Exchange with ccxt's synchronous API.

    Args:
        config: ``{"url": base URL}`` or ``{"network": "mainnet"|"testnet"|"devnet"}``
            (default mainnet); ``privateKey`` (the owner's key, hex) for private calls;
            ``tradeAccountId`` (else found from the key); ``timeout`` in ms (ccxt's unit);
            ``options``: ``{"marketSlippage": 0.05}`` for market orders without a bound.
        client: an :class:`o2lite.Client` to use instead of building one.

    Construction does no I/O. Private calls find the account on first need and open a session
    (sequential nonces, all markets, one day) the first time they sign; O2 keeps one session per
    account, so this replaces one opened elsewhere; the ``O2`` instances of one account in this
    process share theirs, and threads may share an ``O2`` (its session is opened under a lock).
    """

    id = "o2"
    name = "O2 Exchange"
    precisionMode = DECIMAL_PLACES
    timeframes = TIMEFRAMES
    has: Dict[str, Union[bool, str]] = {
        "spot": True, "margin": False, "swap": False, "future": False, "option": False,
        "fetchMarkets": True, "loadMarkets": True, "fetchTicker": True, "fetchTickers": False,
        "fetchOrderBook": True, "fetchL2OrderBook": True, "fetchTrades": True, "fetchOHLCV": True,
        "fetchBalance": True, "createOrder": True, "createLimitOrder": True, "createMarketOrder": "emulated",
        "createPostOnlyOrder": True, "cancelOrder": True, "cancelAllOrders": True, "fetchOrder": True,
        "fetchOrders": True, "fetchOpenOrders": True, "fetchClosedOrders": True, "fetchMyTrades": True,
        "withdraw": True, "fetchDeposits": False, "fetchWithdrawals": False, "editOrder": False,
        "watchOrderBook": False, "watchTrades": False, "watchOrders": False,
    }

    def __init__(self, config: Optional[Mapping[str, Any]] = None, *, client: Optional[Client] = None) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise BadRequest(f"config is a dict such as {{'network': 'testnet'}}, not {type(config).__name__}")
        cfg = dict(config or {})
        unknown = set(cfg) - _CONFIG_KEYS
        if unknown:
            raise BadRequest(f"unknown O2 config keys: {', '.join(sorted(map(str, unknown)))} "
                             f"(known: {', '.join(sorted(_CONFIG_KEYS))})")
        self.options: Dict[str, Any] = _options(cfg.get("options"))
        if client is not None and {"url", "network", "timeout"} & set(cfg):
            raise BadRequest("with client=, url/network/timeout belong to that client")
        try:
            self.client: Client = client or _client(cfg)
            wallet = Wallet(cfg["privateKey"]) if cfg.get("privateKey") is not None else None
            account = cfg.get("tradeAccountId")
            account = None if account is None else b256_hex(account, "tradeAccountId")
        except (O2Error, ValueError) as exc:  # the key's own text never names the key
            raise map_error(exc) from exc
        self.has = dict(O2.has)  # per instance, as ccxt's: a script may adjust it
        self.markets: Dict[str, Dict[str, Any]] = {}
        self.markets_by_id: Dict[str, Dict[str, Any]] = {}
        self.symbols: List[str] = []
        self.currencies: Dict[str, Dict[str, Any]] = {}
        self._native: Dict[str, Market] = {}
        super().__init__(wallet, account)

    def __repr__(self) -> str:
        return f"O2({self.client.transport.base_url!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()

    def __enter__(self) -> "O2":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @staticmethod
    def milliseconds() -> int:
        """Now, in Unix milliseconds."""
        return int(time.time() * 1000)

    iso8601 = staticmethod(iso8601)

    # --- the one place failures become ccxt errors -------------------------------------------

    def _call(self, context: Context, operation: Callable[[], T]) -> T:
        """Run ``operation``; an o2lite or transport failure leaves as its ccxt-style error."""
        try:
            return operation()
        except (O2Error, OSError) as exc:  # requests' exceptions are OSErrors too
            raise map_error(exc, context) from exc

    # --- markets ------------------------------------------------------------------------------

    def fetch_markets(self, params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """``GET /v1/markets`` (fresh) as ccxt markets; markets without both symbols are left out
        (ccxt keys markets by ``BASE/QUOTE``)."""
        self._no_params(params)
        info = self._call("read", lambda: self.client.markets.refresh())
        return [parse_market(m) for m in info.markets if m.base.symbol.strip() and m.quote.symbol.strip()]

    def load_markets(self, reload: bool = False,
                     params: Optional[Mapping[str, Any]] = None) -> Dict[str, Dict[str, Any]]:
        """The markets keyed by symbol, fetched once (again with ``reload=True``)."""
        if self.markets and not reload:
            return self.markets
        parsed = self.fetch_markets(params)
        natives = {m.market_id: m for m in self.client.markets.list()}
        self.markets = {}
        for market in parsed:
            self.markets.setdefault(market["symbol"], market)  # the first of a repeated pair wins
        self.markets_by_id = {m["id"]: m for m in self.markets.values()}
        self._native = {s: natives[m["id"]] for s, m in self.markets.items()}
        self.symbols = sorted(self.markets)
        self.currencies = {}
        for native in self._native.values():
            for asset in (native.base, native.quote):
                self.currencies.setdefault(asset.symbol, {
                    "id": asset.asset, "code": asset.symbol, "precision": asset.max_precision,
                    "info": dict(asset.raw)})
        return self.markets

    def market(self, symbol: str) -> Dict[str, Any]:
        """The ccxt market of ``symbol`` (or of a market id); :class:`BadSymbol` if none."""
        self.load_markets()
        if isinstance(symbol, str):
            found = self.markets.get(symbol) or self.markets_by_id.get(symbol.lower())
            if found is not None:
                return found
        raise BadSymbol(f"O2 has no market {str(symbol)[:80]!r} (known: {', '.join(self.symbols) or 'none'})")

    def _market(self, symbol: str) -> Market:
        found = self.market(symbol)  # loads the markets first: _native is rebuilt then
        return self._native[found["symbol"]]

    def _selected(self, symbol: Optional[str]) -> List[Market]:
        """One market, or every market when ``symbol`` is ``None``."""
        if symbol is not None:
            return [self._market(symbol)]
        self.load_markets()
        return [self._native[s] for s in self.symbols]

    @staticmethod
    def _no_params(params: Optional[Mapping[str, Any]], known: FrozenSet[str] = frozenset()) -> Dict[str, Any]:
        """``params`` as a dict; a key this method does not use is refused, not ignored."""
        if params is None:
            return {}
        if not isinstance(params, Mapping):
            raise BadRequest("params must be a dict")
        unknown = set(params) - known
        if unknown:
            raise NotSupported(f"O2 does not use params {', '.join(sorted(map(str, unknown)))}"
                               + (f" (known here: {', '.join(sorted(known))})" if known else ""))
        return dict(params)

    @staticmethod
    def _limit(limit: Optional[int], default: int, cap: int) -> int:
        if limit is None:
            return default
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= cap:
            raise BadRequest(f"limit must be an integer from 1 to {cap}")
        return limit

    @staticmethod
    def _since(since: Any) -> Optional[int]:
        """Unix ms; a float (``time.time() * 1000``) is truncated, as ccxt scripts pass them."""
        if since is None:
            return None
        if isinstance(since, bool) or not isinstance(since, (int, float)) or not 0 <= since < 2**63:
            raise BadRequest("since is Unix milliseconds (an int)")
        return int(since)

    # --- public reads -------------------------------------------------------------------------

    def fetch_ticker(self, symbol: str, params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``GET /v1/markets/ticker`` as a ccxt ticker (``info`` is the exchange's JSON)."""
        self._no_params(params)
        m = self._market(symbol)
        stats = self._call("read", lambda: self.client.markets.ticker(m))
        ticker = self._call("read", lambda: parse_ticker(human_ticker(stats.raw, m), m))
        ticker["info"] = dict(stats.raw)
        return ticker

    def fetch_order_book(self, symbol: str, limit: Optional[int] = None,
                         params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``GET /v1/depth`` as a ccxt order book; ``params.precision`` is O2's grouping level
        1–18 (default 1)."""
        extra = self._no_params(params, frozenset({"precision"}))
        m = self._market(symbol)
        limit = None if limit is None else self._limit(limit, 0, 10_000)
        precision = extra.get("precision", 1)
        depth = self._call("read", lambda: self.client.markets.depth(m, precision, limit))
        book: Dict[str, Any] = self._call("read", lambda: parse_order_book(depth, m))
        return book

    fetch_l2_order_book = fetch_order_book

    def fetch_trades(self, symbol: str, since: Optional[int] = None, limit: Optional[int] = None,
                     params: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Public trades, oldest first, ``side`` the taker's: the first ``limit`` (default 50)
        at or after ``since``, or the newest ones (see :mod:`o2lite.ccxt.paging`)."""
        self._no_params(params)
        m, since = self._market(symbol), self._since(since)
        count = self._limit(limit, 50, MAX_ITEMS)
        trades = self._call("read", lambda: [parse_trade(t, m) for t in back_to(
            self.client.markets.iter_trades(m, max_items=scan_size(since, count)), since)])
        return window(trades, since, count)

    def fetch_ohlcv(self, symbol: str, timeframe: str = "1m", since: Optional[int] = None,
                    limit: Optional[int] = None,
                    params: Optional[Mapping[str, Any]] = None) -> List[List[Union[int, float]]]:
        """``GET /v1/bars`` as ``[[ms, open, high, low, close, volume], …]``, oldest first:
        ``limit`` (default 100) bars from ``since``, or the latest ones up to ``params.until``
        (default now)."""
        extra = self._no_params(params, frozenset({"until"}))
        if not isinstance(timeframe, str) or timeframe not in TIMEFRAMES:
            raise NotSupported(f"O2 has no timeframe {str(timeframe)[:10]!r} (known: {', '.join(TIMEFRAMES)})")
        m, since = self._market(symbol), self._since(since)
        count = self._limit(limit, 100, MAX_BARS)
        until = self._since(extra.get("until")) or self.milliseconds()
        span = int(timeframe[:-1]) * _UNIT_MS[timeframe[-1]] * count
        start = since if since is not None else max(until - span, 0)
        end = until if since is None else min(until, start + span)
        if end < start:
            raise BadRequest("since is after until")
        raw_bars = self._call("read", lambda: self.client.markets.bars(m, timeframe, start, end))
        bars = self._call("read", lambda: [parse_ohlcv(b.raw, m) for b in raw_bars])
        bars = sorted((b for b in bars if start <= b[0] <= end), key=lambda b: b[0])
        return bars[:count] if since is not None else bars[-count:]

    def _best(self, m: Market, side: str) -> Optional[Decimal]:
        """The best opposite price for a market order on ``side`` (``None`` when that side is empty)."""
        depth = self._call("read", lambda: self.client.markets.depth(m, 1, 1))
        self._call("read", lambda: same_market(depth.market_id, m, "order book"))  # a bound from this book only
        levels = depth.sells if side == "buy" else depth.buys
        return m.format_price(levels[0].price) if levels else None

    # --- camelCase, as ccxt spells them -------------------------------------------------------

    loadMarkets = load_markets
    fetchMarkets = fetch_markets
    fetchTicker = fetch_ticker
    fetchOrderBook = fetch_order_book
    fetchL2OrderBook = fetch_order_book
    fetchTrades = fetch_trades
    fetchOHLCV = fetch_ohlcv

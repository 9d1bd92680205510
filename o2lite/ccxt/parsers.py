"""Pure parsers (no I/O): O2 JSON in, ccxt's unified structures out.

They take the shapes of the official conformance fixtures (``fixtures/ccxt/raw`` in
o2-exchange/sdks; see ``tests/vectors/ccxt``): markets, depth, trades and orders as the
exchange sends them (chain integers); the ticker and bars **already in human units**, as the
fixtures give them — :mod:`o2lite.ccxt.normalise` turns the exchange's chain-integer ticker and
bars into those shapes first.

ccxt's conventions, the one place in o2lite where numbers are ``float``: human units, computed
exactly with Decimal and converted last; the untouched O2 JSON stays in ``info``; timestamps in
ms with an ISO ``datetime``; ``None`` for what O2 does not say.

A ``market`` argument is a ccxt market (what :func:`parse_market` returns) or an
:class:`o2lite.Market`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
import decimal
from decimal import Decimal, InvalidOperation
import math
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .._parse import digits
from ..errors import O2Error
from ..market import Market, format_units
from ..market_data import Depth, Trade
from ..models import Balance, Order
from .normalise import human_bar

__all__ = [
    "parse_market", "parse_ticker", "parse_order_book", "parse_trade", "parse_ohlcv", "parse_balance",
    "parse_order", "native_market", "same_market", "timestamp_ms", "iso8601", "MarketLike",
]

CcxtMarket = Mapping[str, Any]
MarketLike = Union[CcxtMarket, Market]
# Decimal arithmetic under a private context, so a caller's global context cannot change a result
_EXACT = decimal.Context(prec=80, traps=[decimal.InvalidOperation])
_MS_THRESHOLD = 10**12  # below: Unix seconds (a ms timestamp passed 10^12 in Sept 2001)
_MS_YEAR_10000 = 253_402_300_800_000  # 10000-01-01T00:00:00Z in ms: datetime's limit
_FLOAT_MAX = Decimal(sys.float_info.max)


def native_market(market: MarketLike) -> Market:
    """The :class:`o2lite.Market` behind a ccxt market (rebuilt from its ``info``)."""
    if isinstance(market, Market):
        return market
    if isinstance(market, Mapping) and isinstance(market.get("info"), Mapping):
        return Market.from_json(market["info"], "ccxt market info")
    raise O2Error("a market is a ccxt market from parse_market (with its O2 'info') or an o2lite Market")


def same_market(market_id: Any, market: MarketLike, where: str) -> None:
    """Refuse an answer that names another market than the one asked about (when it names one)."""
    if market_id is None:
        return
    m = native_market(market)
    given = str(market_id).strip().lower()
    if ("0x" + given if not given.startswith("0x") else given) != m.market_id.lower():
        raise O2Error(f"{where}: the answer is about another market ({given[:70]}), not {m.pair} ({m.market_id})")


def _symbol(market: MarketLike) -> str:
    if isinstance(market, Market):
        return market.pair
    return str(market["symbol"])


def _f(value: Optional[Decimal]) -> Optional[float]:
    """A ccxt number: ``None`` for unknown, and for a result beyond ``float`` (never ``inf``)."""
    number = None if value is None else float(value)
    return number if number is None or math.isfinite(number) else None


def _human(value: Any) -> Optional[Decimal]:
    """A human-scale number given as text or JSON number; ``None`` when absent or unreadable —
    which includes a magnitude beyond ``float``'s range (it would become ``inf``)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str) and len(value) > 80:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) <= _FLOAT_MAX else None


def timestamp_ms(value: Any) -> Optional[int]:
    """Milliseconds from an O2 timestamp given in ms or in Unix seconds (told apart by size:
    a value below 10^12 is seconds); ``None`` when absent or not a whole number.

    >>> timestamp_ms("1700000000"), timestamp_ms(1700000000000)
    (1700000000000, 1700000000000)
    """
    if isinstance(value, bool):
        return None
    parsed = value if isinstance(value, int) else digits(str(value).strip(), 20) if value is not None else None
    if parsed is None or parsed < 0:
        return None
    return parsed * 1000 if parsed < _MS_THRESHOLD else parsed


def iso8601(ms: Optional[int]) -> Optional[str]:
    """``2023-11-14T22:13:20.000Z`` from ms; ``None`` for ``None`` and, as ccxt's own
    ``iso8601``, for what is no time it can write (not an int, negative, past year 9999).

    >>> iso8601(1700000000000), iso8601(10**15)
    ('2023-11-14T22:13:20.000Z', None)
    """
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms < _MS_YEAR_10000:
        return None
    moment = datetime.fromtimestamp(ms // 1000, tz=timezone.utc).replace(microsecond=ms % 1000 * 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_market(raw: Union[Mapping[str, Any], Market]) -> Dict[str, Any]:
    """A ``/v1/markets`` entry as a ccxt market.

    ``precision`` is in decimal places (``precisionMode`` 2): ``amount`` = base
    ``max_precision``, ``price`` = quote ``max_precision``; ``limits.cost.min`` is ``min_order``
    in quote units. ``maker``/``taker`` are ``None``: O2's fee fields' unit is not published.
    """
    m = raw if isinstance(raw, Market) else Market.from_json(raw, "ccxt parse_market")
    return {
        "id": m.market_id, "symbol": m.pair, "base": m.base.symbol, "quote": m.quote.symbol,
        "baseId": m.base.asset, "quoteId": m.quote.asset, "settle": None, "settleId": None,
        "type": "spot", "spot": True, "margin": False, "swap": False, "future": False, "option": False,
        "contract": False, "linear": None, "inverse": None, "contractSize": None, "expiry": None,
        "expiryDatetime": None, "strike": None, "optionType": None,
        "active": True, "maker": None, "taker": None, "percentage": True, "tierBased": False,
        "precision": {"amount": m.base.max_precision, "price": m.quote.max_precision},
        "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                   "cost": {"min": float(format_units(m.min_order, m.quote.decimals)), "max": None},
                   "leverage": {"min": None, "max": None}},
        "created": None, "info": dict(m.raw),
    }


def parse_ticker(raw: Mapping[str, Any], market: MarketLike) -> Dict[str, Any]:
    """A ticker in the fixture shape — human-unit strings ``last_price``, ``best_bid``,
    ``best_ask``, ``base_volume``, ``quote_volume`` and optionally ``high``, ``low``, ``open``,
    ``bid_volume``, ``ask_volume``, ``change``, ``percentage``, ``timestamp`` (ms) — as a ccxt
    ticker. ``close`` is ``last``."""
    if not isinstance(raw, Mapping):
        raise O2Error("ticker: expected an object", body=str(raw)[:200])
    same_market(raw.get("market_id"), market, "ticker")
    last = _human(raw.get("last_price"))
    ts = timestamp_ms(raw.get("timestamp"))
    base_volume, quote_volume = _human(raw.get("base_volume")), _human(raw.get("quote_volume"))
    vwap = _EXACT.divide(quote_volume, base_volume) if base_volume and quote_volume is not None else None
    return {
        "symbol": _symbol(market), "timestamp": ts, "datetime": iso8601(ts),
        "high": _f(_human(raw.get("high"))), "low": _f(_human(raw.get("low"))),
        "bid": _f(_human(raw.get("best_bid"))), "bidVolume": _f(_human(raw.get("bid_volume"))),
        "ask": _f(_human(raw.get("best_ask"))), "askVolume": _f(_human(raw.get("ask_volume"))),
        "vwap": _f(vwap), "open": _f(_human(raw.get("open"))), "close": _f(last), "last": _f(last),
        "previousClose": None, "change": _f(_human(raw.get("change"))),
        "percentage": _f(_human(raw.get("percentage"))), "average": None,
        "baseVolume": _f(base_volume), "quoteVolume": _f(quote_volume), "info": dict(raw),
    }


def parse_order_book(raw: Any, market: MarketLike, limit: Optional[int] = None) -> Dict[str, Any]:
    """Depth (``{bids, asks}``, ``{orders: {buys, sells}}`` or ``{view: …}``; levels
    ``{price, quantity}`` or pairs, chain integers) as a ccxt order book, best first.
    O2's depth carries no time: ``timestamp``/``datetime``/``nonce`` are ``None``."""
    m = native_market(market)
    depth = raw if isinstance(raw, Depth) else Depth.from_json(raw, "ccxt parse_order_book", limit=limit)
    same_market(depth.market_id, m, "order book")

    def levels(side: Iterable[Any]) -> List[List[float]]:
        return [[float(m.format_price(lv.price)), float(m.format_quantity(lv.quantity))] for lv in side]

    return {"symbol": _symbol(market), "bids": levels(depth.buys), "asks": levels(depth.sells),
            "timestamp": None, "datetime": None, "nonce": None}


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def parse_trade(raw: Any, market: MarketLike, account: Optional[str] = None) -> Dict[str, Any]:
    """A trade as a ccxt trade.

    O2 reports the **maker's** side. A public trade (no ``trader_side`` and no ``account``)
    gets the taker's side. An account's trade — ``trader_side`` present, or ``account`` (a
    trade account id) matched against ``maker``/``taker`` — gets the account's side and
    ``takerOrMaker``; a self-trade (``both``) gets ``side=None``, its roles left in ``info``.
    """
    m = native_market(market)
    trade = raw if isinstance(raw, Trade) else Trade.from_json(raw, "ccxt parse_trade")
    maker_side = trade.side.lower()
    role = trade.raw.get("trader_side") if isinstance(trade.raw, Mapping) else None
    if role is None and account is not None:
        roles = [r for r, who in (("maker", trade.maker), ("taker", trade.taker)) if who == account.lower()]
        role = "both" if len(roles) == 2 else roles[0] if roles else None
    role = role.lower() if isinstance(role, str) else None
    side: Optional[str]
    if role == "both":
        side, taker_or_maker = None, None
    elif role == "maker":
        side, taker_or_maker = maker_side, "maker"
    elif role == "taker":
        side, taker_or_maker = _opposite(maker_side), "taker"
    else:  # public, or a role this client does not know: the market's view, the taker's side
        side, taker_or_maker = _opposite(maker_side), None
    price, amount = m.format_price(trade.price), m.format_quantity(trade.quantity)
    ts = timestamp_ms(trade.timestamp)
    return {"id": trade.trade_id, "order": None, "timestamp": ts, "datetime": iso8601(ts),
            "symbol": _symbol(market), "type": None, "side": side, "takerOrMaker": taker_or_maker,
            "price": float(price), "amount": float(amount), "cost": float(_EXACT.multiply(price, amount)),
            "fee": None, "fees": [], "info": dict(trade.raw)}


def parse_ohlcv(raw: Mapping[str, Any], market: Optional[MarketLike] = None) -> List[Union[int, float]]:
    """A bar as ``[ms, open, high, low, close, volume]``.

    Without ``market`` the bar is in the fixture shape: human units, ``time``/``timestamp`` in
    seconds or ms. With ``market`` it is the exchange's own bar (chain integers, ``volume`` or
    ``buy_volume + sell_volume``), scaled by the market's decimals first.
    """
    if market is not None:
        raw = human_bar(raw, native_market(market))
    if not isinstance(raw, Mapping):
        raise O2Error("bar: expected an object", body=str(raw)[:200])
    ts = timestamp_ms(raw.get("time") if raw.get("time") is not None else raw.get("timestamp"))
    values = [_human(raw.get(k)) for k in ("open", "high", "low", "close", "volume")]
    if ts is None or any(v is None for v in values):
        raise O2Error("bar: time, open, high, low, close and volume are required", body=str(raw)[:200])
    return [ts] + [float(v) for v in values if v is not None]


def _decimals_by_currency(markets: Union[Mapping[str, MarketLike], Iterable[MarketLike]]) -> Dict[str, int]:
    items = markets.values() if isinstance(markets, Mapping) else markets
    out: Dict[str, int] = {}
    for market in items:
        m = native_market(market)
        out.setdefault(m.base.symbol, m.base.decimals)
        out.setdefault(m.quote.symbol, m.quote.decimals)
    return out


def parse_balance(raw_balances: Mapping[str, Any],
                  markets: Union[Mapping[str, MarketLike], Iterable[MarketLike]]) -> Dict[str, Any]:
    """``{symbol: /v1/balance JSON}`` as a ccxt balance, decimals from ``markets``.

    ``free`` = ``total_unlocked`` (which already includes ``trading_account_balance``: it is
    never added again), ``used`` = ``total_locked``, ``total`` = ``free + used``.
    """
    decimals = _decimals_by_currency(markets)
    result: Dict[str, Any] = {"info": {k: dict(v) if isinstance(v, Mapping) else v for k, v in raw_balances.items()},
                              "timestamp": None, "datetime": None, "free": {}, "used": {}, "total": {}}
    for currency, raw in raw_balances.items():
        if currency not in decimals:
            raise O2Error(f"balance of {currency!r}: no market names this currency, so its decimals are unknown")
        balance = raw if isinstance(raw, Balance) else Balance.from_json(raw, "ccxt parse_balance")
        places = decimals[currency]
        free, used = format_units(balance.total_unlocked, places), format_units(balance.total_locked, places)
        entry = {"free": float(free), "used": float(used), "total": float(_EXACT.add(free, used))}
        result[currency] = entry
        for key in ("free", "used", "total"):
            result[key][currency] = entry[key]
    return result


def _order_kind(order_type: Any) -> Tuple[str, Optional[str], bool]:
    """``(type, timeInForce, postOnly)`` of an O2 order type (a name or a one-key object)."""
    label = next(iter(order_type), "") if isinstance(order_type, Mapping) else str(order_type or "")
    if label in ("Market", "BoundedMarket"):
        return "market", None, False
    if label == "FillOrKill":
        return "limit", "FOK", False
    if label.endswith("PostOnly"):
        return "limit", "PO", True
    return "limit", "GTC", False


def parse_order(raw: Any, market: MarketLike) -> Dict[str, Any]:
    """An O2 order as a ccxt order: status ``canceled`` / ``closed`` / ``open``; type and
    ``timeInForce`` from ``order_type`` (``Spot``/``Limit`` → ``GTC``, ``PostOnly`` → ``PO``,
    ``FillOrKill`` → ``FOK``, ``Market``/``BoundedMarket`` → ``market``); ``average`` is
    ``price_fill`` (``None`` before a fill), ``cost`` = ``average × filled``."""
    m = native_market(market)
    order = raw if isinstance(raw, Order) else Order.from_json(raw, "ccxt parse_order")
    same_market(order.market_id, m, "order")
    kind, time_in_force, post_only = _order_kind(order.order_type)
    amount, filled = m.format_quantity(order.quantity), m.format_quantity(order.quantity_fill)
    price = m.format_price(order.price)
    average = m.format_price(order.price_fill) if order.price_fill else None
    ts = timestamp_ms(order.timestamp)
    status = "canceled" if order.cancel else "closed" if order.close else "open"
    return {
        "id": order.order_id, "clientOrderId": None, "timestamp": ts, "datetime": iso8601(ts),
        "lastTradeTimestamp": None, "lastUpdateTimestamp": None, "symbol": _symbol(market),
        "type": kind, "timeInForce": time_in_force, "postOnly": post_only, "reduceOnly": False,
        "side": order.side.lower(), "price": float(price), "triggerPrice": None, "stopPrice": None,
        "amount": float(amount), "filled": float(filled), "remaining": float(max(_EXACT.subtract(amount, filled), Decimal(0))),
        "average": _f(average), "cost": float(_EXACT.multiply(average if average is not None else price, filled)),
        "status": status, "fee": None, "fees": [], "trades": [], "info": dict(order.raw),
    }

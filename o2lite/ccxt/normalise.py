"""The exchange's own ticker and bar JSON, brought to the human-unit shapes the official ccxt
fixtures give (and :mod:`o2lite.ccxt.parsers` reads). Pure: no I/O.

- Ticker: the shape is disputed (PROTOCOL §5). The TypeScript SDK's model —
  ``{last_price, best_bid, best_ask, base_volume, quote_volume}``, which the fixtures treat as
  human units — passes through unchanged. The Rust SDK's typed model — ``[{high, low, bid,
  bid_volume, ask, ask_volume, open, close, last, …, base_volume, quote_volume, timestamp}]``
  with ``u64`` fields, what the sandbox emits — is read as chain integers and scaled. A price of
  0 (the sandbox's "no bid", "no trade yet") becomes ``None``: no O2 order has price 0.
- Bars: ``{timestamp|time (ms), open, high, low, close, volume | buy_volume + sell_volume}``
  in chain integers → human-unit strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Optional

from .._parse import chain_int, decimal_of, digits, unwrap_one
from ..errors import O2Error
from ..market import Market, format_units
from ..market_data import Bar

__all__ = ["human_ticker", "human_bar"]

_HUMAN_TICKER_KEYS = ("last_price", "best_bid", "best_ask")


def _signed(value: Any, where: str) -> Optional[int]:
    """A chain integer that may be negative (a price change)."""
    if value is None:
        return None
    text = str(value).strip()
    magnitude = digits(text.lstrip("-"), 20)
    if magnitude is None:
        raise O2Error(f"{where}: not an integer: {text[:40]!r}")
    return -magnitude if text.startswith("-") else magnitude


def human_ticker(raw: Any, market: Market) -> Dict[str, Any]:
    """The exchange's ticker (object or one-item list) in the fixture shape (see the module doc)."""
    where = "GET /v1/markets/ticker"
    obj = unwrap_one(raw, where)
    if any(key in obj for key in _HUMAN_TICKER_KEYS):
        return dict(obj)

    def scaled(name: str, decimals: int, *, zero_is_none: bool = False) -> Optional[str]:
        value = obj.get(name)
        if value is None:
            return None
        number = chain_int(value, name, where)
        return None if zero_is_none and number == 0 else str(format_units(number, decimals))

    def price(name: str) -> Optional[str]:
        return scaled(name, market.quote.decimals, zero_is_none=True)

    change, quote = _signed(obj.get("change"), where), market.quote.decimals
    percentage = obj.get("percentage")
    out: Dict[str, Any] = {
        "market_id": obj.get("market_id"), "last_price": price("last"), "best_bid": price("bid"),
        "best_ask": price("ask"), "high": price("high"), "low": price("low"), "open": price("open"),
        "bid_volume": scaled("bid_volume", market.base.decimals),
        "ask_volume": scaled("ask_volume", market.base.decimals),
        "base_volume": scaled("base_volume", market.base.decimals),
        "quote_volume": scaled("quote_volume", market.quote.decimals),
        "change": None if change is None else ("-" if change < 0 else "") + str(format_units(abs(change), quote)),
        "percentage": None if percentage is None else str(decimal_of(percentage, "percentage", where)),
        "timestamp": obj.get("timestamp"),
    }
    if out["best_bid"] is None:
        out["bid_volume"] = None
    if out["best_ask"] is None:
        out["ask_volume"] = None
    return out


def human_bar(raw: Any, market: Market) -> Dict[str, Any]:
    """One exchange bar (chain integers) as ``{time (ms), open, high, low, close, volume}`` in
    human-unit strings: prices by the quote's decimals, volume by the base's."""
    if not isinstance(raw, Mapping):
        raise O2Error("GET /v1/bars: expected a bar object", body=str(raw)[:200])
    bar = Bar.from_json(raw, "GET /v1/bars")
    price = market.format_price
    return {"time": bar.time, "open": str(price(bar.open)), "high": str(price(bar.high)),
            "low": str(price(bar.low)), "close": str(price(bar.close)),
            "volume": str(market.format_quantity(bar.volume))}
